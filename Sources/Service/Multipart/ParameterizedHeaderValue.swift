/// A header value written `leading *( OWS ";" OWS name=value )`, as Content-Type (RFC 9110
/// §8.3.1, §5.6.6) and Content-Disposition (RFC 6266 §4.1) are.
struct ParameterizedHeaderValue {
    /// What comes before the first `;`, without surrounding whitespace.
    var leading: ArraySlice<UInt8>
    /// The parameters in order, names lower-cased (they are case-insensitive), values with
    /// any quoting removed.
    var parameters: [(name: String, value: String)]

    /// Why a value does not follow the parameter grammar, as a phrase for an error message.
    struct SyntaxError: Error {
        let reason: String
    }

    /// Parses `bytes`, which must hold no CR or LF.
    static func parse(_ bytes: ArraySlice<UInt8>) throws(SyntaxError) -> ParameterizedHeaderValue {
        var reader = Reader(bytes: bytes)
        reader.skipWhitespace()
        let leadingStart = reader.position
        while let byte = reader.next, byte != UInt8(ascii: ";") { reader.position += 1 }
        var leading = bytes[leadingStart..<reader.position]
        while let last = leading.last, HeaderSyntax.isWhitespace(last) { leading.removeLast() }

        var parameters: [(name: String, value: String)] = []
        // RFC 9110 §5.6.6: parameters = *( OWS ";" OWS [ parameter ] )
        while true {
            reader.skipWhitespace()
            guard reader.next != nil else { break }
            guard reader.next == UInt8(ascii: ";") else { throw SyntaxError(reason: "expected ';' before a parameter") }
            reader.position += 1
            reader.skipWhitespace()
            guard let first = reader.next, first != UInt8(ascii: ";") else { continue }
            // parameter = parameter-name "=" parameter-value; no whitespace around "=".
            let name = reader.token()
            guard !name.isEmpty else {
                throw SyntaxError(reason: "a parameter name must be a token, not start with '\(Character(UnicodeScalar(first)))'")
            }
            let lowercasedName = String(decoding: name, as: UTF8.self).lowercased()
            guard reader.next == UInt8(ascii: "=") else {
                throw SyntaxError(reason: "parameter '\(lowercasedName)' needs '=' and a value, with no spaces around '='")
            }
            reader.position += 1
            let value: [UInt8]
            if reader.next == UInt8(ascii: "\"") {
                value = try reader.quotedString(parameter: lowercasedName)
            } else {
                value = Array(reader.token())
                guard !value.isEmpty else {
                    throw SyntaxError(reason: "parameter '\(lowercasedName)' has no value; quote it if it holds spaces or separators")
                }
            }
            parameters.append((lowercasedName, String(decoding: value, as: UTF8.self)))
        }
        return ParameterizedHeaderValue(leading: leading, parameters: parameters)
    }

    /// The value of the parameter `name`, or nil when it is absent; refused when given twice,
    /// since which one a reader takes is then anyone's guess.
    func value(of name: String) throws(SyntaxError) -> String? {
        let matches = parameters.filter { $0.name == name }
        guard matches.count <= 1 else { throw SyntaxError(reason: "parameter '\(name)' appears more than once") }
        return matches.first?.value
    }

    /// A cursor over the header value's bytes.
    private struct Reader {
        let bytes: ArraySlice<UInt8>
        var position: Int

        init(bytes: ArraySlice<UInt8>) {
            self.bytes = bytes
            position = bytes.startIndex
        }

        var next: UInt8? { position < bytes.endIndex ? bytes[position] : nil }

        mutating func skipWhitespace() {
            while let byte = next, HeaderSyntax.isWhitespace(byte) { position += 1 }
        }

        /// The longest run of token characters here (possibly empty).
        mutating func token() -> ArraySlice<UInt8> {
            let start = position
            while let byte = next, HeaderSyntax.isToken(byte) { position += 1 }
            return bytes[start..<position]
        }

        // RFC 9110 §5.6.4: quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE,
        // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
        mutating func quotedString(parameter: String) throws(SyntaxError) -> [UInt8] {
            position += 1
            var value: [UInt8] = []
            while let byte = next {
                position += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return value
                case UInt8(ascii: "\\"):
                    guard let escaped = next, HeaderSyntax.isFieldValueByte(escaped) else {
                        throw SyntaxError(reason: "parameter '\(parameter)' has a backslash escaping nothing or a control character")
                    }
                    value.append(escaped)
                    position += 1
                default:
                    guard HeaderSyntax.isFieldValueByte(byte) else {
                        throw SyntaxError(reason: "parameter '\(parameter)' holds a control character")
                    }
                    value.append(byte)
                }
            }
            throw SyntaxError(reason: "parameter '\(parameter)' has a quoted value without its closing quote")
        }
    }
}

/// The headers of one body part that form-data gives meaning to (RFC 7578 §4.2–4.7); other
/// headers are checked for syntax and otherwise ignored.
struct MultipartPartHeaders {
    /// The part's number, from 1, for error messages.
    let part: Int
    /// The Content-Disposition value, without surrounding whitespace.
    private(set) var contentDisposition: ArraySlice<UInt8>?
    /// The Content-Type value, without surrounding whitespace.
    private(set) var contentType: ArraySlice<UInt8>?

    init(part: Int) {
        self.part = part
    }

    /// Adds one header line (without its CRLF).
    // RFC 9110 §5.1–5.5 (field-name ":" OWS field-value OWS), as RFC 7578 §4.8 applies it.
    mutating func add(line: ArraySlice<UInt8>) throws(MultipartError) {
        if let first = line.first, HeaderSyntax.isWhitespace(first) {
            // RFC 9112 §5.2: obsolete line folding has no place in new messages.
            throw .invalidPartHeader(part: part, reason: "a line starts with whitespace (folded header lines are not accepted)")
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { throw .headerWithoutColon(part: part) }
        let name = line[..<colon]
        guard !name.isEmpty, name.allSatisfy(HeaderSyntax.isToken) else {
            throw .invalidPartHeader(
                part: part, reason: "the header name '\(String(decoding: name, as: UTF8.self))' is not a token (no spaces before the colon)")
        }
        var value = line[(colon + 1)...]
        while let first = value.first, HeaderSyntax.isWhitespace(first) { value.removeFirst() }
        while let last = value.last, HeaderSyntax.isWhitespace(last) { value.removeLast() }
        guard value.allSatisfy(HeaderSyntax.isFieldValueByte) else {
            throw .invalidPartHeader(part: part, reason: "the \(String(decoding: name, as: UTF8.self)) header holds a control character")
        }

        if Self.equalsIgnoringCase(name, "content-disposition") {
            guard contentDisposition == nil else { throw .duplicateHeader(part: part, name: "Content-Disposition") }
            contentDisposition = value
        } else if Self.equalsIgnoringCase(name, "content-type") {
            guard contentType == nil else { throw .duplicateHeader(part: part, name: "Content-Type") }
            contentType = value
        } else if Self.equalsIgnoringCase(name, "content-transfer-encoding") {
            // RFC 7578 §4.7: senders must not use it; the identity encodings change nothing,
            // anything else would hand undecoded text on as if it were the content.
            let identity = ["7bit", "8bit", "binary"].contains { Self.equalsIgnoringCase(value, $0) }
            guard identity else {
                throw .unsupportedTransferEncoding(part: part, encoding: String(decoding: value, as: UTF8.self))
            }
        }
    }

    /// The part these headers describe, with its body still empty.
    func describedPart() throws(MultipartError) -> MultipartPart {
        guard let contentDisposition else { throw .missingContentDisposition(part: part) }
        let disposition: ParameterizedHeaderValue
        let name: String?, filename: String?, extendedFilename: String?
        do {
            disposition = try ParameterizedHeaderValue.parse(contentDisposition)
            name = try disposition.value(of: "name")
            filename = try disposition.value(of: "filename")
            extendedFilename = try disposition.value(of: "filename*")
        } catch {
            throw .invalidContentDisposition(part: part, reason: error.reason)
        }
        // RFC 7578 §4.2: the disposition type is "form-data" (case-insensitive, RFC 6266 §4.2).
        guard Self.equalsIgnoringCase(disposition.leading, "form-data") else {
            let type = String(decoding: disposition.leading, as: UTF8.self)
            throw .invalidContentDisposition(part: part, reason: "its type must be form-data, not '\(type)'")
        }
        guard let name else { throw .missingName(part: part) }
        return MultipartPart(
            name: name,
            // RFC 6266 §4.3: a filename* the reader understands takes precedence.
            filename: extendedFilename.flatMap(Self.decodeExtendedValue) ?? filename,
            contentType: contentType.map { String(decoding: $0, as: UTF8.self) },
            body: [])
    }

    /// Decodes an RFC 8187 §3.2 ext-value (`UTF-8'en'na%C3%AFve.png`), or nil when its
    /// charset is neither UTF-8 nor ISO-8859-1 or its encoding is broken. RFC 7578 §4.2 says
    /// senders should not use `filename*`; it is read so that those who do are understood.
    static func decodeExtendedValue(_ text: String) -> String? {
        let fields = text.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
        guard fields.count == 3 else { return nil }
        var bytes: [UInt8] = []
        var encoded = fields[2].utf8[...]
        while let byte = encoded.popFirst() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard encoded.count >= 2, let high = hexValue(encoded.removeFirst()), let low = hexValue(encoded.removeFirst()) else {
                return nil
            }
            bytes.append(high << 4 | low)
        }
        switch fields[0].lowercased() {
        case "utf-8": return String(validating: bytes, as: UTF8.self)
        case "iso-8859-1": return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
        default: return nil
        }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Whether `bytes` spell `lowercase` in any mix of ASCII case.
    static func equalsIgnoringCase(_ bytes: ArraySlice<UInt8>, _ lowercase: String) -> Bool {
        bytes.count == lowercase.utf8.count && zip(bytes, lowercase.utf8).allSatisfy { byte, expected in
            let folded = (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 0x20 : byte
            return folded == expected
        }
    }
}

extension HTTPResponse {
    /// The JSON error shape every layer of the service answers with:
    /// `{"error":{"code":"snake_case","message":"…"}}`.
    public static func error(
        _ status: HTTPStatus, code: String, message: String, headers: HTTPHeaders = HTTPHeaders()
    ) -> HTTPResponse {
        var headers = headers
        headers.set(name: "Content-Type", value: "application/json")
        let body = #"{"error":{"code":"# + JSONText.quoted(code) + #","message":"# + JSONText.quoted(message) + "}}"
        return HTTPResponse(status: status, headers: headers, body: Array(body.utf8))
    }

    /// The answer to a connection beyond `maxConnections`, given before it is closed
    /// (RFC 9110 §15.6.4: 503 with `Retry-After` says the condition is temporary).
    static var tooManyConnections: HTTPResponse {
        .error(
            .serviceUnavailable, code: "too_many_connections",
            message: "The server is at its connection limit; retry in a moment.",
            headers: ["Retry-After": "1"]
        )
    }

    /// The answer to a request whose body does not fit in what remains of
    /// `maxInflightBodyBytes`, given before the body is read (RFC 9110 §15.6.4).
    static var bodyBudgetExhausted: HTTPResponse {
        .error(
            .serviceUnavailable, code: "body_budget_exhausted",
            message: "The server holds as many request bodies as it can right now; retry in a moment.",
            headers: ["Retry-After": "1"]
        )
    }

    /// The answer to a request the parser rejected; the connection closes after it.
    init(parseError: HTTPParseError) {
        self = .error(parseError.status, code: parseError.code, message: parseError.message)
    }
}

/// JSON string literals written by hand, so that error bodies (here and in the service) and
/// the configuration file come out byte-for-byte the same on every platform (Foundation's
/// encoder differs in which characters it escapes), and this module needs no JSON library.
public enum JSONText {
    /// `text` as a JSON string literal (RFC 8259 §7), quotes included: `"` and `\` escaped,
    /// control characters as short escapes or `\u00XX`, everything else as UTF-8.
    public static func quoted(_ text: String) -> String {
        var literal: [UInt8] = []
        appendQuoted(text, to: &literal)
        return String(decoding: literal, as: UTF8.self)
    }

    /// Appends `text` as a JSON string literal to `bytes`: the same bytes as ``quoted(_:)``,
    /// without building a `String` (for log lines, written on every request). It works on
    /// UTF-8 bytes: everything escaped is ASCII, and every other byte is copied as it is.
    public static func appendQuoted(_ text: String, to bytes: inout [UInt8]) {
        bytes.reserveCapacity(bytes.count + text.utf8.count + 2)
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\\")); bytes.append(byte)
            case UInt8(ascii: "\\"): bytes.append(byte); bytes.append(byte)
            case 0x20...: bytes.append(byte)
            case 0x0A: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "t"))
            case 0x08: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "b"))
            case 0x0C: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "f"))
            default:
                let digits: [UInt8] = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                bytes.append(digits[Int(byte >> 4)])
                bytes.append(digits[Int(byte & 0x0F)])
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

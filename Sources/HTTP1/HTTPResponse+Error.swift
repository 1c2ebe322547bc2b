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

    /// The answer to a request the parser rejected; the connection closes after it.
    init(parseError: HTTPParseError) {
        self = .error(parseError.status, code: parseError.code, message: parseError.message)
    }
}

/// Just enough JSON writing for error bodies, so this module needs no JSON library.
enum JSONText {
    /// `text` as a JSON string literal (RFC 8259 §7), quotes included.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case let control where control.value < 0x20:
                let hex = String(control.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}

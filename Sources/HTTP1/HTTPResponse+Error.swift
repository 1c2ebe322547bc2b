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
        var literal = "\""
        literal.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": literal += "\\\""
            case "\\": literal += "\\\\"
            case "\n": literal += "\\n"
            case "\r": literal += "\\r"
            case "\t": literal += "\\t"
            case "\u{08}": literal += "\\b"
            case "\u{0C}": literal += "\\f"
            case let control where control.value < 0x20:
                let hex = String(control.value, radix: 16)
                literal += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                literal.unicodeScalars.append(scalar)
            }
        }
        literal += "\""
        return literal
    }
}

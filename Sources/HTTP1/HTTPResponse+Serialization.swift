/// What the server knows about the request a response answers, which decides how the
/// response is framed.
struct ResponseContext: Sendable {
    /// The request's method, when the parser got that far (HEAD responses carry no body).
    var method: HTTPMethod?
    /// The request's version (HTTP/1.0 clients need an explicit keep-alive).
    var version: HTTPVersion
    /// Whether the client allows the connection to stay open.
    var clientAllowsKeepAlive: Bool

    /// The context of a request that could not be read: the connection closes after it.
    static let unreadableRequest = ResponseContext(method: nil, version: .http1_1, clientAllowsKeepAlive: false)
}

extension HTTPResponse {
    /// Why this response cannot be sent as given, or nil when it can. Checked so that a
    /// handler's mistake (a CR LF in a value, say) cannot split the response stream.
    var invalidityReason: String? {
        guard (200...999).contains(status.code) else {
            return "status \(status.code) is not a final status code"
        }
        guard status.reasonPhrase.utf8.allSatisfy(HTTPSyntax.isFieldValueCharacter) else {
            return "the reason phrase contains control characters"
        }
        for field in headers {
            guard !field.name.isEmpty, field.name.utf8.allSatisfy(HTTPSyntax.isTokenCharacter) else {
                return "the header name '\(field.name)' is not a token"
            }
            guard field.valueBytes.allSatisfy(HTTPSyntax.isFieldValueCharacter) else {
                return "the value of header '\(field.name)' contains control characters"
            }
        }
        return nil
    }

    /// Whether the handler asked for the connection to close after this response.
    var asksToCloseConnection: Bool {
        headers.values(for: "Connection").contains { value in
            value.split(separator: ",").contains { $0.trimmingWhitespace().equalsIgnoringASCIICase("close") }
        }
    }

    /// Appends the status line, the header section and (unless forbidden) the body.
    func serialize(
        into buffer: inout [UInt8], context: ResponseContext, closesConnection: Bool, date: [UInt8], serverName: String
    ) {
        buffer.append(contentsOf: "HTTP/1.1 ".utf8)
        buffer.appendDecimal(status.code)
        buffer.append(HTTPSyntax.space)
        buffer.append(contentsOf: status.reasonPhrase.utf8)
        buffer.append(contentsOf: "\r\n".utf8)
        if !headers.contains("Date") {
            buffer.append(contentsOf: "Date: ".utf8)
            buffer.append(contentsOf: date)
            buffer.append(contentsOf: "\r\n".utf8)
        }
        if !serverName.isEmpty && !headers.contains("Server") {
            buffer.appendField(name: "Server", value: serverName)
        }
        var declaredLength: String?
        for field in headers {
            if field.name.equalsIgnoringASCIICase("Content-Length") {
                declaredLength = field.value
            } else if !field.name.equalsIgnoringASCIICase("Transfer-Encoding") && !field.name.equalsIgnoringASCIICase("Connection") {
                buffer.appendField(name: field.name, valueBytes: field.valueBytes)
            }
        }
        let isHead = context.method == .head
        // RFC 9110 §8.6: no Content-Length on 1xx/204; 304 describes a representation not sent.
        if !status.forbidsContent {
            buffer.append(contentsOf: "Content-Length: ".utf8)
            // RFC 9110 §9.3.2: a HEAD response may state the length a GET would have had; a
            // handler that skipped building the body can still say so.
            if isHead, body.isEmpty, let declaredLength, !declaredLength.isEmpty, declaredLength.utf8.allSatisfy(HTTPSyntax.isDigit) {
                buffer.append(contentsOf: declaredLength.utf8)
            } else {
                buffer.appendDecimal(body.count)
            }
            buffer.append(contentsOf: "\r\n".utf8)
        }
        if closesConnection {
            buffer.append(contentsOf: "Connection: close\r\n".utf8)
        } else if !context.version.isAtLeastHTTP1_1 {
            // RFC 9112 §9.3: an HTTP/1.0 client only keeps the connection if told so.
            buffer.append(contentsOf: "Connection: keep-alive\r\n".utf8)
        }
        buffer.append(contentsOf: "\r\n".utf8)
        if !isHead && !status.forbidsContent {
            buffer.append(contentsOf: body)
        }
    }
}

extension Array where Element == UInt8 {
    /// Appends `name: value` and CRLF.
    mutating func appendField(name: String, value: String) {
        append(contentsOf: name.utf8)
        append(contentsOf: ": ".utf8)
        append(contentsOf: value.utf8)
        append(contentsOf: "\r\n".utf8)
    }

    /// Appends `name: value` and CRLF, the value's octets as they are.
    mutating func appendField(name: String, valueBytes: [UInt8]) {
        append(contentsOf: name.utf8)
        append(contentsOf: ": ".utf8)
        append(contentsOf: valueBytes)
        append(contentsOf: "\r\n".utf8)
    }

    /// Appends a non-negative integer in decimal, without building a String.
    mutating func appendDecimal(_ value: Int) {
        guard value > 0 else {
            append(UInt8(ascii: "0"))
            return
        }
        let start = count
        var remaining = value
        while remaining > 0 {
            append(UInt8(ascii: "0") + UInt8(remaining % 10))
            remaining /= 10
        }
        self[start...].reverse()
    }
}

extension Substring {
    /// The substring without leading and trailing spaces and tabs.
    func trimmingWhitespace() -> Substring {
        let isWhitespace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isWhitespace($0) }), let last = lastIndex(where: { !isWhitespace($0) }) else {
            return self[endIndex...]
        }
        return self[first...last]
    }
}

extension StringProtocol {
    /// ASCII case-insensitive comparison for tokens.
    func equalsIgnoringASCIICase(_ other: String) -> Bool {
        String(self).equalsIgnoringASCIICase(other)
    }
}

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
        guard HTTPSyntax.allBytes(of: status.reasonPhrase, satisfy: HTTPSyntax.isFieldValueCharacter) else {
            return "the reason phrase contains control characters"
        }
        for field in headers {
            guard !field.name.isEmpty, HTTPSyntax.allBytes(of: field.name, satisfy: HTTPSyntax.isTokenCharacter) else {
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
        buffer.appendLiteral("HTTP/1.1 ")
        buffer.appendDecimal(status.code)
        buffer.append(HTTPSyntax.space)
        buffer.appendUTF8(status.reasonPhrase)
        buffer.appendLiteral("\r\n")
        if !headers.contains("Date") {
            buffer.appendLiteral("Date: ")
            buffer.append(contentsOf: date)
            buffer.appendLiteral("\r\n")
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
            buffer.appendLiteral("Content-Length: ")
            // RFC 9110 §9.3.2: a HEAD response may state the length a GET would have had; a
            // handler that skipped building the body can still say so.
            if isHead, body.isEmpty, let declaredLength, !declaredLength.isEmpty, declaredLength.utf8.allSatisfy(HTTPSyntax.isDigit) {
                buffer.appendUTF8(declaredLength)
            } else {
                buffer.appendDecimal(body.count)
            }
            buffer.appendLiteral("\r\n")
        }
        if closesConnection {
            buffer.appendLiteral("Connection: close\r\n")
        } else if !context.version.isAtLeastHTTP1_1 {
            // RFC 9112 §9.3: an HTTP/1.0 client only keeps the connection if told so.
            buffer.appendLiteral("Connection: keep-alive\r\n")
        }
        buffer.appendLiteral("\r\n")
        if !isHead && !status.forbidsContent {
            buffer.append(contentsOf: body)
        }
    }
}

extension Array where Element == UInt8 {
    /// Appends `name: value` and CRLF.
    mutating func appendField(name: String, value: String) {
        appendUTF8(name)
        appendLiteral(": ")
        appendUTF8(value)
        appendLiteral("\r\n")
    }

    /// Appends `name: value` and CRLF, the value's octets as they are.
    mutating func appendField(name: String, valueBytes: [UInt8]) {
        appendUTF8(name)
        appendLiteral(": ")
        append(contentsOf: valueBytes)
        appendLiteral("\r\n")
    }

    /// Appends the UTF-8 of a literal, copied from where the program keeps it.
    mutating func appendLiteral(_ text: StaticString) {
        text.withUTF8Buffer { append(contentsOf: $0) }
    }

    /// Appends the UTF-8 of `text`, copied at once from its contiguous storage (which every
    /// native string has) rather than through its UTF-8 view.
    mutating func appendUTF8(_ text: String) {
        let copied: Void? = text.utf8.withContiguousStorageIfAvailable { append(contentsOf: $0) }
        if copied == nil { append(contentsOf: text.utf8) }
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

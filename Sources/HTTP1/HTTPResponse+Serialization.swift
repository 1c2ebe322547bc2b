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
        headers.contains { field in
            field.name.equalsIgnoringASCIICase("Connection")
                && field.value.split(separator: ",").contains { $0.trimmingWhitespace().equalsIgnoringASCIICase("close") }
        }
    }

    /// Appends the status line, the header section and (unless forbidden) the body.
    ///
    /// The head is measured first (with the handler's fields the server must not repeat or
    /// adds itself), written into one temporary buffer and appended at once.
    func serialize(
        into buffer: inout [UInt8], context: ResponseContext, closesConnection: Bool, date: [UInt8], serverName: String
    ) {
        var hasDate = false
        var hasServer = false
        var declaredLength: String?
        // "HTTP/1.1 ", the code, a space, the reason, CRLF; Date, Server; Content-Length;
        // Connection; the blank line.
        var headBytes = 9 + 20 + 1 + status.reasonPhrase.utf8.count + 2 + (6 + date.count + 2)
            + (8 + serverName.utf8.count + 2) + (16 + 20 + 2) + 24 + 2
        for field in headers {
            if field.name.equalsIgnoringASCIICase("Date") {
                hasDate = true
            } else if field.name.equalsIgnoringASCIICase("Server") {
                hasServer = true
            } else if field.name.equalsIgnoringASCIICase("Content-Length") {
                declaredLength = field.value
                headBytes += field.valueBytes.count
            }
            headBytes += field.name.utf8.count + 2 + field.valueBytes.count + 2
        }
        let isHead = context.method == .head
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: headBytes) { room in
            var head = ByteCursor(room)
            head.write("HTTP/1.1 ")
            head.writeDecimal(status.code)
            head.write(HTTPSyntax.space)
            head.write(status.reasonPhrase)
            head.write("\r\n")
            if !hasDate {
                head.write("Date: ")
                head.write(date)
                head.write("\r\n")
            }
            if !serverName.isEmpty && !hasServer {
                head.write("Server: ")
                head.write(serverName)
                head.write("\r\n")
            }
            for field in headers
            where !field.name.equalsIgnoringASCIICase("Content-Length") && !field.name.equalsIgnoringASCIICase("Transfer-Encoding")
                && !field.name.equalsIgnoringASCIICase("Connection") {
                head.write(field.name)
                head.write(": ")
                head.write(field.valueBytes)
                head.write("\r\n")
            }
            // RFC 9110 §8.6: no Content-Length on 1xx/204; 304 describes a representation not sent.
            if !status.forbidsContent {
                head.write("Content-Length: ")
                // RFC 9110 §9.3.2: a HEAD response may state the length a GET would have had; a
                // handler that skipped building the body can still say so.
                if isHead, body.isEmpty, let declaredLength, !declaredLength.isEmpty, declaredLength.utf8.allSatisfy(HTTPSyntax.isDigit) {
                    head.write(declaredLength)
                } else {
                    head.writeDecimal(body.count)
                }
                head.write("\r\n")
            }
            if closesConnection {
                head.write("Connection: close\r\n")
            } else if !context.version.isAtLeastHTTP1_1 {
                // RFC 9112 §9.3: an HTTP/1.0 client only keeps the connection if told so.
                head.write("Connection: keep-alive\r\n")
            }
            head.write("\r\n")
            buffer.append(contentsOf: head.written)
        }
        if !isHead && !status.forbidsContent {
            buffer.append(contentsOf: body)
        }
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

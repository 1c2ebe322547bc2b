import Testing
@testable import HTTP1

/// One protection rule: what is sent, and the status and error code it must get.
struct Violation: CustomTestStringConvertible, Sendable {
    var name: String
    var request: String
    var status: Int
    var code: String

    var testDescription: String { name }
}

/// The limits every violation test runs under.
func protectionConfiguration() -> HTTPServer.Configuration {
    testConfiguration {
        $0.maxRequestLineBytes = 256
        $0.maxHeaderBytes = 512
        $0.maxHeaderCount = 10
        $0.maxBodyBytes = 64
    }
}

let violations: [Violation] = [
    Violation(name: "request line too long", request: "GET /" + String(repeating: "a", count: 300) + " HTTP/1.1\r\nHost: h\r\n\r\n",
              status: 414, code: "request_line_too_long"),
    Violation(name: "header section too large", request: "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + String(repeating: "b", count: 600) + "\r\n\r\n",
              status: 431, code: "header_section_too_large"),
    Violation(name: "too many header fields", request: "GET / HTTP/1.1\r\nHost: h\r\n" + (0..<10).map { "X-\($0): v\r\n" }.joined() + "\r\n",
              status: 431, code: "too_many_header_fields"),
    Violation(name: "Content-Length over the limit", request: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 65\r\n\r\n",
              status: 413, code: "body_too_large"),
    Violation(name: "chunks over the limit", request: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n20\r\n"
                + String(repeating: "c", count: 32) + "\r\n21\r\n",
              status: 413, code: "body_too_large"),
    Violation(name: "Content-Length and Transfer-Encoding", request: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
              status: 400, code: "content_length_with_transfer_encoding"),
    Violation(name: "duplicate Content-Length", request: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
              status: 400, code: "duplicate_content_length"),
    Violation(name: "Content-Length +5", request: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\nhello",
              status: 400, code: "invalid_content_length"),
    Violation(name: "Content-Length -1", request: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n",
              status: 400, code: "invalid_content_length"),
    Violation(name: "Content-Length 5 5", request: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5 5\r\n\r\nhello",
              status: 400, code: "invalid_content_length"),
    Violation(name: "Content-Length overflow", request: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 18446744073709551621\r\n\r\n",
              status: 400, code: "invalid_content_length"),
    Violation(name: "chunked not final", request: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
              status: 400, code: "invalid_transfer_encoding"),
    Violation(name: "unsupported transfer coding", request: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
              status: 501, code: "unsupported_transfer_coding"),
    Violation(name: "whitespace before colon", request: "GET / HTTP/1.1\r\nHost : h\r\n\r\n",
              status: 400, code: "whitespace_before_colon"),
    Violation(name: "obs-fold", request: "GET / HTTP/1.1\r\nHost: h\r\nX-Folded: a\r\n b\r\n\r\n",
              status: 400, code: "obsolete_line_folding"),
    Violation(name: "bare LF", request: "GET / HTTP/1.1\nHost: h\n\n",
              status: 400, code: "bare_line_feed"),
    Violation(name: "missing Host", request: "GET / HTTP/1.1\r\n\r\n",
              status: 400, code: "missing_host"),
    Violation(name: "duplicate Host", request: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
              status: 400, code: "duplicate_host"),
    Violation(name: "bad chunk size", request: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\nabc\r\n0\r\n\r\n",
              status: 400, code: "invalid_chunk_size"),
    Violation(name: "missing CRLF after chunk data", request: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcdef\r\n0\r\n\r\n",
              status: 400, code: "missing_chunk_terminator"),
    Violation(name: "HTTP/2 on the request line", request: "GET / HTTP/2.0\r\nHost: h\r\n\r\n",
              status: 505, code: "http_version_not_supported"),
    Violation(name: "unknown expectation", request: "POST / HTTP/1.1\r\nHost: h\r\nExpect: tea\r\nContent-Length: 1\r\n\r\nx",
              status: 417, code: "unsupported_expectation"),
]

/// Each rule of RFC 9112 the server enforces, over a real socket: the right status, the JSON
/// error body, `Connection: close`, and a closed connection that answers nothing more.
@Suite struct HTTPConnectionTests {
    @Test(arguments: violations)
    func aFramingOrLimitViolationIsAnsweredThenTheConnectionCloses(_ violation: Violation) async throws {
        try await withServer(protectionConfiguration()) { _, port in
            let client = try await RawClient.connect(to: port)
            // A valid request follows in the same write: it must never be answered, because
            // after a framing error the server cannot know where it starts.
            try await client.send(violation.request + "GET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n")
            let response = try await client.readResponse()
            #expect(response.status == violation.status)
            #expect(response.headers["Content-Type"] == "application/json")
            #expect(response.headers["Connection"] == "close")
            #expect(response.text.hasPrefix(#"{"error":{"code":"\#(violation.code)","message":""#))
            // The server's own answers carry a fresh request id too.
            let requestID = response.headers["X-Request-ID"] ?? ""
            #expect(requestID.count == 32 && requestID.allSatisfy(\.isHexDigit))
            #expect(await client.waitForClose() == .closed(extraBytes: 0))
        }
    }

    @Test func oversizedContentLengthIsRefusedBeforeAnyBodyIsSent() async throws {
        try await withServer(protectionConfiguration()) { _, port in
            let client = try await RawClient.connect(to: port)
            try await client.send("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1000000\r\n\r\n")
            #expect(try await client.readResponse().status == 413)
        }
    }

    @Test func aBodyArrivingAfterA413DoesNotResetTheResponse() async throws {
        try await withServer(protectionConfiguration()) { _, port in
            let client = try await RawClient.connect(to: port)
            // The client sends its whole body (more than the socket buffers hold) before
            // reading: lingering close drains it, where a plain close would make the kernel
            // reset the connection and fail the client's send.
            let body = String(repeating: "z", count: 16 * 1024 * 1024)
            try await client.send("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body)
            #expect(try await client.readResponse().status == 413)
        }
    }

    @Test func unknownMethodsGet501AndTheConnectionStaysUsable() async throws {
        try await withServer { _, port in
            let client = try await RawClient.connect(to: port)
            try await client.send("BREW /pot HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\ntea")
            let response = try await client.readResponse()
            #expect(response.status == 501)
            #expect(response.text.contains(#""code":"method_not_implemented""#))
            #expect(response.headers["Connection"] == nil)
            try await client.send("GET /still-here HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(try await client.readResponse().text == "GET /still-here - ")
        }
    }

    /// TRACE and CONNECT are methods RFC 9110 defines, so a path that does not serve them
    /// answers 405 with `Allow` (as nginx does), not 501; the connection stays usable.
    @Test func traceAndConnectOnAKnownPathGet405WithAllow() async throws {
        var router = HTTPRouter()
        router.get("/score") { _ in HTTPResponse() }
        try await withServer(handler: router.handler) { _, port in
            let client = try await RawClient.connect(to: port)
            for method in ["TRACE", "CONNECT"] {
                try await client.send("\(method) /score HTTP/1.1\r\nHost: h\r\n\r\n")
                let response = try await client.readResponse()
                #expect(response.status == 405, "\(method)")
                #expect(response.headers["Allow"] == "GET, HEAD, OPTIONS", "\(method)")
                #expect(response.text.contains(#""code":"method_not_allowed""#), "\(method)")
            }
            try await client.send("TRACE /elsewhere HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(try await client.readResponse().status == 404)
        }
    }

    @Test func wrongMethodOnAKnownPathGets405WithAllow() async throws {
        var router = HTTPRouter()
        router.get("/prompts/{id}") { _ in HTTPResponse() }
        router.delete("/prompts/{id}") { _ in HTTPResponse(status: .noContent) }
        try await withServer(handler: router.handler) { _, port in
            let client = try await RawClient.connect(to: port)
            try await client.send("POST /prompts/abc HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n")
            let response = try await client.readResponse()
            #expect(response.status == 405)
            #expect(response.headers["Allow"] == "GET, HEAD, DELETE, OPTIONS")
            #expect(response.text.contains(#""code":"method_not_allowed""#))
            try await client.send("GET /nothing HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(try await client.readResponse().status == 404)
        }
    }

    @Test func slowlorisGets408AndIsClosed() async throws {
        let configuration = testConfiguration { $0.headerTimeout = .milliseconds(500) }
        try await withServer(configuration) { server, port in
            // The first request's header clock starts at accept, so after this moment.
            let start = ContinuousClock.now
            let client = try await RawClient.connect(to: port)
            let request = "GET / HTTP/1.1\r\nHost: h\r\nX-Slow: " + String(repeating: "s", count: 60) + "\r\n\r\n"
            let trickling = Task { await client.trickle(request, interval: .milliseconds(100)) }
            let response = try await client.readResponse(timeout: .seconds(5))
            let elapsed = start.duration(to: .now)
            #expect(response.status == 408)
            #expect(response.headers["Connection"] == "close")
            #expect(response.text.contains(#""code":"request_timeout""#))
            #expect(elapsed >= .milliseconds(500))
            #expect(await trickling.value < request.utf8.count, "the server must not wait for the whole trickle")
            #expect(await eventually { server.openConnectionCount == 0 })
        }
    }

    @Test func aStalledBodyGets408AfterTheBodyTimeout() async throws {
        let configuration = testConfiguration { $0.bodyTimeout = .milliseconds(300) }
        try await withServer(configuration) { _, port in
            let client = try await RawClient.connect(to: port)
            try await client.send("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc")
            let response = try await client.readResponse()
            #expect(response.status == 408)
            #expect(response.headers["Connection"] == "close")
            #expect(await client.waitForClose() == .closed(extraBytes: 0))
        }
    }

    @Test func theHeaderTimeoutOfLaterRequestsStartsAtTheirFirstByte() async throws {
        let configuration = testConfiguration {
            $0.headerTimeout = .milliseconds(800)
            $0.idleTimeout = .seconds(5)
        }
        try await withServer(configuration) { _, port in
            let client = try await RawClient.connect(to: port)
            try await client.send("GET /1 HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(try await client.readResponse().status == 200)
            // Idle for longer than the header timeout: only the idle timeout applies here.
            try await Task.sleep(for: .milliseconds(1200))
            try await client.send("GET /2 HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(try await client.readResponse().text == "GET /2 - ")
        }
    }

    @Test func partialRequestsDoNotTimeOutWhileTheServerIsStillAnswering() async throws {
        let configuration = testConfiguration { $0.headerTimeout = .milliseconds(500) }
        let handler: HTTPHandler = { request in
            if request.path == "/slow" { try? await Task.sleep(for: .milliseconds(1000)) }
            return HTTPResponse(contentType: "text/plain", body: request.path)
        }
        try await withServer(configuration, handler: handler) { _, port in
            let client = try await RawClient.connect(to: port)
            // The second request's head is half sent while the first is being handled.
            try await client.send("GET /slow HTTP/1.1\r\nHost: h\r\n\r\nGET /next HTTP/1.1\r\n")
            #expect(try await client.readResponse().text == "/slow")
            try await client.send("Host: h\r\n\r\n")
            #expect(try await client.readResponse().text == "/next")
        }
    }
}

import Testing
@testable import HTTP1

/// Refusals decided from the head: answered at once, before the body is sent or read.
@Suite struct HTTPHeadCheckTests {
    /// Refuses requests without `Authorization: Bearer good` (401) and those naming a set that
    /// does not exist (403 here, to tell the two apart).
    static let headCheck: HTTPHeadCheck = { head in
        guard head.headers["Authorization"] == "Bearer good" else {
            return .error(.unauthorized, code: "unauthorized", message: "Send a valid token.")
        }
        if head.path == "/forbidden" {
            return .error(.forbidden, code: "forbidden", message: "Not for you.")
        }
        return nil
    }

    @Test func aRefusedHeadIsAnsweredWithoutItsBody() async throws {
        let probe = Probe()
        let handler: HTTPHandler = { request in
            probe.record("handled \(request.path)")
            return HTTPResponse()
        }
        try await withStarted(HTTPServer(configuration: testConfiguration(), headCheck: Self.headCheck, handler: handler)) { _, port in
            // Only the head of a 50 MB body is sent: the answer must not wait for the rest.
            let client = try await RawClient.connect(to: port)
            try await client.send("POST /score HTTP/1.1\r\nHost: h\r\nContent-Length: 50000000\r\n\r\n")
            let response = try await client.readResponse(timeout: .seconds(2))
            #expect(response.status == 401)
            #expect(response.headers["Connection"] == "close")
            #expect(response.text.hasPrefix(#"{"error":{"code":"unauthorized","message":""#))
            // Whatever the client still sends is drained, and the connection closes.
            try? await client.send([UInt8](repeating: 0x78, count: 256 * 1024))
            #expect(await client.waitForClose() == .closed(extraBytes: 0))

            let forbidden = try await RawClient.connect(to: port)
            try await forbidden.send("POST /forbidden HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer good\r\nTransfer-Encoding: chunked\r\n\r\n")
            #expect(try await forbidden.readResponse(timeout: .seconds(2)).status == 403)

            // An accepted head is served as usual, and bodiless requests are not checked.
            let accepted = try await RawClient.connect(to: port)
            try await accepted.send("POST /ok HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer good\r\nContent-Length: 2\r\n\r\nhi")
            #expect(try await accepted.readResponse().status == 200)
            try await accepted.send("GET /open HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(try await accepted.readResponse().status == 200)
            #expect(probe.recorded == ["handled /ok", "handled /open"])
        }
    }

    /// RFC 9110 §10.1.1: a client that waits for `100 Continue` gets the final status instead,
    /// and so never sends its body.
    @Test func aRefusedHeadExpecting100ContinueGetsTheFinalStatusInstead() async throws {
        try await withServer(headCheck: Self.headCheck) { _, port in
            let client = try await RawClient.connect(to: port)
            try await client.send("POST /score HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 1000000\r\n\r\n")
            let response = try await client.readResponse(timeout: .seconds(2))
            #expect(response.status == 401)
            #expect(response.headers["Connection"] == "close")
            #expect(await client.waitForClose() == .closed(extraBytes: 0))

            // An accepted one still gets its 100 Continue first.
            let accepted = try await RawClient.connect(to: port)
            try await accepted.send("POST /ok HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer good\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
            #expect(try await accepted.readResponse().status == 100)
            try await accepted.send("hi")
            #expect(try await accepted.readResponse().text == "POST /ok - hi")
        }
    }

    @Test func anUnknownRouteWithALargeBodyGets404AtOnce() async throws {
        var router = HTTPRouter()
        router.post("/score") { _ in HTTPResponse() }
        try await withStarted(HTTPServer(configuration: testConfiguration(), router: router)) { _, port in
            let client = try await RawClient.connect(to: port)
            let start = ContinuousClock.now
            try await client.send("POST /nowhere HTTP/1.1\r\nHost: h\r\nContent-Length: 60000000\r\n\r\n")
            let response = try await client.readResponse(timeout: .seconds(2))
            #expect(response.status == 404)
            #expect(response.text.hasPrefix(#"{"error":{"code":"not_found","message":""#))
            #expect(start.duration(to: .now) < .seconds(1))

            let wrongMethod = try await RawClient.connect(to: port)
            try await wrongMethod.send("PUT /score HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n")
            let refused = try await wrongMethod.readResponse(timeout: .seconds(2))
            #expect(refused.status == 405)
            #expect(refused.headers["Allow"] == "POST, OPTIONS")
        }
    }

    /// The router's own check runs first; one given beside it is asked next.
    @Test func aRouterServerAlsoAsksTheGivenHeadCheck() async throws {
        var router = HTTPRouter()
        router.post("/score") { _ in HTTPResponse(contentType: "text/plain", body: "scored") }
        try await withStarted(HTTPServer(configuration: testConfiguration(), headCheck: Self.headCheck, router: router)) { _, port in
            let client = try await RawClient.connect(to: port)
            try await client.send("POST /nowhere HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n")
            #expect(try await client.readResponse().status == 404)
            let unauthorized = try await RawClient.connect(to: port)
            try await unauthorized.send("POST /score HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n")
            #expect(try await unauthorized.readResponse().status == 401)
            let accepted = try await RawClient.connect(to: port)
            try await accepted.send("POST /score HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer good\r\nContent-Length: 5\r\n\r\nimage")
            #expect(try await accepted.readResponse().text == "scored")
        }
    }
}

import Testing
@testable import HTTP1

/// Refusals for overload (429, 503) held for `overloadRefusalDelay` before they are sent, so
/// clients that ignore `Retry-After` cannot turn refusals into a flood.
@Suite struct OverloadRefusalDelayTests {
    /// 429 on `/busy`, 401 on `/locked`, nothing elsewhere.
    static let headCheck: HTTPHeadCheck = { head in
        switch head.path {
        case "/busy":
            var response = HTTPResponse.error(.tooManyRequests, code: "queue_full", message: "Busy.")
            response.headers.set(name: "Retry-After", value: "1")
            return response
        case "/locked":
            return .error(.unauthorized, code: "unauthorized", message: "Send a valid token.")
        default:
            return nil
        }
    }

    static func server(delay: Duration) -> HTTPServer {
        HTTPServer(
            configuration: testConfiguration { $0.overloadRefusalDelay = delay },
            headCheck: headCheck, handler: { _ in HTTPResponse() }
        )
    }

    static let busyUpload = "POST /busy HTTP/1.1\r\nHost: h\r\nContent-Length: 50000000\r\n\r\n"

    @Test func anOverloadRefusalIsSentOnceTheDelayHasPassedWithoutReadingTheBody() async throws {
        let delay = Duration.milliseconds(400)
        try await withStarted(Self.server(delay: delay)) { server, port in
            let client = try await RawClient.connect(to: port)
            let sent = ContinuousClock.now
            try await client.send(Self.busyUpload)
            let response = try await client.readResponse(timeout: .seconds(30))
            // The server takes the refusal's moment after reading the head, which was sent
            // after `sent`: it cannot answer sooner, however fast the machine.
            #expect(ContinuousClock.now - sent >= delay)
            #expect(response.status == 429)
            #expect(response.headers["Retry-After"] == "1")
            #expect(response.headers["Connection"] == "close")
            #expect(await client.waitForClose(timeout: .seconds(30)) == .closed(extraBytes: 0))
            // Nothing else was held: the server serves the next request as usual.
            let next = try await RawClient.connect(to: port)
            try await next.send("GET /open HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(try await next.readResponse(timeout: .seconds(30)).status == 200)
            #expect(server.inflightBodyBytes == 0)
        }
    }

    @Test func otherRefusalsAreNotHeld() async throws {
        // A delay no test would wait out: a 401 that came at all was not held.
        try await withStarted(Self.server(delay: .seconds(600))) { _, port in
            let client = try await RawClient.connect(to: port)
            try await client.send("POST /locked HTTP/1.1\r\nHost: h\r\nContent-Length: 50000000\r\n\r\n")
            #expect(try await client.readResponse(timeout: .seconds(60)).status == 401)
        }
    }

    @Test func aClientThatLeavesWhileItsRefusalIsHeldIsClosedAtOnce() async throws {
        try await withStarted(Self.server(delay: .seconds(600))) { server, port in
            let client = try await RawClient.connect(to: port)
            try await client.send(Self.busyUpload)
            await client.close()
            let deadline = ContinuousClock.now + .seconds(60)
            while server.openConnectionCount > 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(server.openConnectionCount == 0)
        }
    }

    @Test func aShutdownSendsHeldRefusalsAtOnce() async throws {
        let server = Self.server(delay: .seconds(600))
        try server.start()
        let client = try await RawClient.connect(to: try #require(server.port))
        try await client.send(Self.busyUpload)
        // The refusal is being held once the connection is open and silent.
        #expect(await client.staysSilent(for: .milliseconds(200)))
        let shutdown = Task { await server.shutdown(gracePeriod: .seconds(60)) }
        let response = try await client.readResponse(timeout: .seconds(60))
        #expect(response.status == 429)
        await shutdown.value
    }
}

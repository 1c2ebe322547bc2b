import Glibc
import Testing
@testable import HTTP1

/// The server over real loopback sockets: the features of RFC 9112 it implements.
@Suite struct HTTPServerTests {
    @Test func answersASimpleRequest() async throws {
        try await withServer { _, port in
            let client = try await RawClient.connect(to: port)
            try await client.send("GET /hello?x=1 HTTP/1.1\r\nHost: localhost\r\n\r\n")
            let response = try await client.readResponse()
            #expect(response.status == 200)
            #expect(response.reason == "OK")
            #expect(response.text == "GET /hello x=1 ")
            #expect(response.headers["Content-Length"] == "15")
            #expect(response.headers["Content-Type"] == "text/plain")
            #expect(response.headers["Server"] == "http1")
            #expect(response.headers["Connection"] == nil)
            let date = try #require(response.headers["Date"])
            #expect(date.count == 29 && date.hasSuffix(" GMT"), "IMF-fixdate, got \(date)")
        }
    }

    /// Header octets above 0x7F reach the handler byte for byte (RFC 9110 §5.5), and a value
    /// that is not UTF-8 is still readable as text.
    @Test func headerOctetsAbove0x7FReachTheHandlerUnchanged() async throws {
        let octets: [UInt8] = Array(0x80...0xFF) + [0x20, 0xC3, 0xA9, 0xC3, 0x28, 0xED, 0xA0, 0x80]
        let handler: HTTPHandler = { request in
            let bytes = request.headers.valueBytes(for: "X-Opaque") ?? []
            let text = request.headers["X-Opaque"] ?? ""
            var response = HTTPResponse(body: bytes)
            response.headers.add(name: "X-Replacements", value: String(text.unicodeScalars.filter { $0 == "\u{FFFD}" }.count))
            response.headers.add(name: "X-Echo", valueBytes: bytes)
            return response
        }
        try await withServer(handler: handler) { _, port in
            let client = try await RawClient.connect(to: port)
            try await client.send(Array("GET / HTTP/1.1\r\nHost: h\r\nX-Opaque: ".utf8) + octets + Array("\r\n\r\n".utf8))
            let response = try await client.readResponse()
            #expect(response.status == 200)
            #expect(response.body == octets)
            #expect(Int(response.headers["X-Replacements"] ?? "") ?? 0 > 0)
            // A handler can send opaque octets back in a header too.
            #expect(response.headers["X-Echo"] == String(decoding: octets, as: UTF8.self))
        }
    }

    @Test func keepAliveServesSeveralRequestsOnOneConnection() async throws {
        try await withServer { server, port in
            let client = try await RawClient.connect(to: port)
            for index in 0..<3 {
                try await client.send("POST /n HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\n\(index)")
                let response = try await client.readResponse()
                #expect(response.text == "POST /n - \(index)")
            }
            #expect(server.openConnectionCount == 1)
        }
    }

    @Test func largeBodiesTravelBothWaysAndTheConnectionStaysUsable() async throws {
        // Built and compared with bulk copies: byte-by-byte work on megabytes, unoptimised,
        // would hold up a thread of the concurrency pool that the other tests' clients need.
        let block = (0..<251).map { UInt8($0) }
        var large: [UInt8] = []
        while large.count < 8 * 1024 * 1024 { large.append(contentsOf: block) }
        let handler: HTTPHandler = { request in HTTPResponse(body: request.body) }
        try await withServer(handler: handler) { _, port in
            let client = try await RawClient.connect(to: port)
            try await client.send(Array("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: \(large.count)\r\n\r\n".utf8) + large)
            // The answer is more than the socket buffers hold, so while the client waits the
            // server's writes stall; they must resume on the writable edge.
            try await Task.sleep(for: .milliseconds(200))
            let response = try await client.readResponse(timeout: .seconds(10))
            #expect(response.status == 200)
            #expect(response.body.count == large.count)
            let isSame = response.body.withUnsafeBytes { received in
                large.withUnsafeBytes { sent in memcmp(received.baseAddress!, sent.baseAddress!, sent.count) == 0 }
            }
            #expect(isSame, "the body came back intact and in order")
            try await client.send("POST /after HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nok")
            #expect(try await client.readResponse().body == Array("ok".utf8))
        }
    }

    @Test(arguments: [true, false])
    func pipelinedRequestsAreAnsweredInOrder(startingHandlersOnEventLoop: Bool) async throws {
        // The first request is the slowest: its response must still come first.
        let handler: HTTPHandler = { request in
            let delay = Int(request.path.dropFirst()) ?? 0
            if delay > 0 { try? await Task.sleep(for: .milliseconds(delay)) }
            return HTTPResponse(contentType: "text/plain", body: request.path)
        }
        let configuration = testConfiguration { $0.startsHandlersOnEventLoop = startingHandlersOnEventLoop }
        try await withServer(configuration, handler: handler) { _, port in
            let client = try await RawClient.connect(to: port)
            let paths = ["/150", "/0", "/60", "/0", "/10"]
            try await client.send(paths.map { "GET \($0) HTTP/1.1\r\nHost: h\r\n\r\n" }.joined())
            for path in paths {
                #expect(try await client.readResponse().text == path)
            }
        }
    }

    @Test func pipelineDepthIsBoundedButEverythingIsAnswered() async throws {
        let configuration = testConfiguration { $0.maxPipelinedRequests = 2 }
        try await withServer(configuration) { _, port in
            let client = try await RawClient.connect(to: port)
            try await client.send((0..<20).map { "GET /\($0) HTTP/1.1\r\nHost: h\r\n\r\n" }.joined())
            for index in 0..<20 {
                #expect(try await client.readResponse().text == "GET /\(index) - ")
            }
        }
    }

    @Test func chunkedBodiesWithExtensionsAndTrailersReachTheHandler() async throws {
        let handler: HTTPHandler = { request in
            HTTPResponse(
                headers: ["X-Trailer": request.trailers["Checksum"] ?? "none"],
                body: request.body
            )
        }
        try await withServer(handler: handler) { _, port in
            let client = try await RawClient.connect(to: port)
            try await client.send(
                "POST /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "4;part=1\r\nWiki\r\n5 ;part=\"two\"\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n"
                    + "0\r\nChecksum: 1234\r\n\r\n"
            )
            let response = try await client.readResponse()
            #expect(response.status == 200)
            #expect(response.text == "Wikipedia in\r\n\r\nchunks.")
            #expect(response.headers["X-Trailer"] == "1234")
            // The connection is still usable after a chunked request.
            try await client.send("GET /after HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(try await client.readResponse().status == 200)
        }
    }

    @Test func expectContinueGetsAnInterimResponseBeforeTheBody() async throws {
        try await withServer { _, port in
            let client = try await RawClient.connect(to: port)
            try await client.send("PUT /x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
            let interim = try await client.readResponse()
            #expect(interim.status == 100)
            try await client.send("hello")
            let final = try await client.readResponse()
            #expect(final.status == 200)
            #expect(final.text == "PUT /x - hello")
        }
    }

    @Test func expectContinueIsNotSentWhenTheBodyIsRefusedUpFront() async throws {
        let configuration = testConfiguration { $0.maxBodyBytes = 10 }
        try await withServer(configuration) { _, port in
            let client = try await RawClient.connect(to: port)
            try await client.send("PUT /x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 11\r\n\r\n")
            let response = try await client.readResponse()
            #expect(response.status == 413)
            #expect(response.headers["Connection"] == "close")
            #expect(await client.waitForClose() == .closed(extraBytes: 0))
        }
    }

    @Test func headGetsTheHeadersOfGetWithoutTheBody() async throws {
        var router = HTTPRouter()
        router.get("/doc") { _ in HTTPResponse(contentType: "text/plain", body: "twelve bytes") }
        try await withServer(handler: router.handler) { _, port in
            let client = try await RawClient.connect(to: port)
            try await client.send("HEAD /doc HTTP/1.1\r\nHost: h\r\n\r\n")
            let head = try await client.readResponse(isHeadRequest: true)
            #expect(head.status == 200)
            #expect(head.headers["Content-Length"] == "12")
            // Had a body been sent, it would be read as the start of this next response.
            try await client.send("GET /doc HTTP/1.1\r\nHost: h\r\n\r\n")
            let get = try await client.readResponse()
            #expect(get.status == 200)
            #expect(get.text == "twelve bytes")
        }
    }

    @Test func connectionCloseFromTheClientIsHonoured() async throws {
        try await withServer { _, port in
            let client = try await RawClient.connect(to: port)
            try await client.send("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
            let response = try await client.readResponse()
            #expect(response.status == 200)
            #expect(response.headers["Connection"] == "close")
            #expect(await client.waitForClose() == .closed(extraBytes: 0))
        }
    }

    @Test func http10ClosesUnlessAskedToKeepAlive() async throws {
        try await withServer { _, port in
            let closing = try await RawClient.connect(to: port)
            try await closing.send("GET / HTTP/1.0\r\n\r\n")
            #expect(try await closing.readResponse().headers["Connection"] == "close")
            #expect(await closing.waitForClose() == .closed(extraBytes: 0))

            let keeping = try await RawClient.connect(to: port)
            try await keeping.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            #expect(try await keeping.readResponse().headers["Connection"] == "keep-alive")
            try await keeping.send("GET /again HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            #expect(try await keeping.readResponse().text == "GET /again - ")
        }
    }

    @Test func aHandlerCanCloseTheConnection() async throws {
        let handler: HTTPHandler = { _ in HTTPResponse(headers: ["Connection": "close"], body: Array("bye".utf8)) }
        try await withServer(handler: handler) { _, port in
            let client = try await RawClient.connect(to: port)
            try await client.send("GET / HTTP/1.1\r\nHost: h\r\n\r\nGET /never HTTP/1.1\r\nHost: h\r\n\r\n")
            let response = try await client.readResponse()
            #expect(response.text == "bye")
            #expect(response.headers["Connection"] == "close")
            #expect(await client.waitForClose() == .closed(extraBytes: 0))
        }
    }

    @Test func noContentResponsesCarryNoLength() async throws {
        let handler: HTTPHandler = { _ in HTTPResponse(status: .noContent, body: Array("ignored".utf8)) }
        try await withServer(handler: handler) { _, port in
            let client = try await RawClient.connect(to: port)
            try await client.send("DELETE /x HTTP/1.1\r\nHost: h\r\n\r\nDELETE /y HTTP/1.1\r\nHost: h\r\n\r\n")
            for _ in 0..<2 {
                let response = try await client.readResponse()
                #expect(response.status == 204)
                #expect(response.headers["Content-Length"] == nil)
            }
        }
    }

    @Test func aResponseThatCannotBeSentSafelyBecomes500() async throws {
        let handler: HTTPHandler = { _ in HTTPResponse(headers: ["X-Injected": "a\r\nSet-Cookie: evil=1"]) }
        try await withServer(handler: handler) { _, port in
            let client = try await RawClient.connect(to: port)
            try await client.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n")
            let response = try await client.readResponse()
            #expect(response.status == 500)
            #expect(response.headers["Set-Cookie"] == nil)
            #expect(response.text.contains(#""code":"invalid_response""#))
        }
    }

    @Test func listensOnIPv6Loopback() async throws {
        let configuration = testConfiguration { $0.host = "::1" }
        try await withServer(configuration) { server, port in
            #expect(server.addresses.map(\.family) == [.ipv6])
            let client = try await RawClient.connect(to: port, host: "::1")
            try await client.send("GET /six HTTP/1.1\r\nHost: [::1]\r\n\r\n")
            #expect(try await client.readResponse().text == "GET /six - ")
        }
    }

    @Test func handlersSeeTheRemoteAddress() async throws {
        let handler: HTTPHandler = { request in
            HTTPResponse(contentType: "text/plain", body: request.remoteAddress?.host ?? "unknown")
        }
        try await withServer(handler: handler) { _, port in
            let client = try await RawClient.connect(to: port)
            try await client.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(try await client.readResponse().text == "127.0.0.1")
        }
    }

    @Test func startingTwiceOrOnABusyPortFailsWithATypedError() async throws {
        try await withServer { server, port in
            #expect(throws: HTTPServerError.alreadyStarted) { try server.start() }
            let rival = HTTPServer(configuration: testConfiguration { $0.port = port }, handler: echoHandler)
            #expect {
                try rival.start()
            } throws: { error in
                guard case .socketFailed(let operation, _, _) = error as? HTTPServerError else { return false }
                return operation == "bind"
            }
        }
        let invalid = HTTPServer(configuration: testConfiguration { $0.maxConnections = 0 }, handler: echoHandler)
        #expect(throws: HTTPServerError.invalidConfiguration("maxConnections must be positive")) { try invalid.start() }
    }

    @Test(arguments: [true, false])
    func clientDisconnectCancelsTheHandlerTask(startingHandlersOnEventLoop: Bool) async throws {
        let probe = Probe()
        let handler: HTTPHandler = { _ in
            probe.record("started")
            do {
                try await Task.sleep(for: .seconds(30))
                probe.record("finished")
            } catch {
                probe.record("cancelled")
            }
            return HTTPResponse()
        }
        let configuration = testConfiguration { $0.startsHandlersOnEventLoop = startingHandlersOnEventLoop }
        try await withServer(configuration, handler: handler) { server, port in
            let client = try await RawClient.connect(to: port)
            try await client.send("POST /score HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi")
            #expect(await probe.wait(for: "started"))
            await client.close()
            #expect(await probe.wait(for: "cancelled"))
            #expect(!probe.recorded.contains("finished"))
            #expect(await eventually { server.openConnectionCount == 0 })
        }
    }

    @Test func aClientLeavingWhileTheServerHasStoppedReadingIsNoticed() async throws {
        let probe = Probe()
        let handler: HTTPHandler = { _ in
            probe.record("started")
            do {
                try await Task.sleep(for: .seconds(30))
            } catch {
                probe.record("cancelled")
            }
            return HTTPResponse()
        }
        let configuration = testConfiguration { $0.maxPipelinedRequests = 1 }
        try await withServer(configuration, handler: handler) { server, port in
            let client = try await RawClient.connect(to: port)
            // The first request occupies the only pipeline slot; the second is more than the
            // server reads ahead, so it stops reading from this connection.
            let body = String(repeating: "x", count: 100 * 1024)
            try await client.send(
                "GET /slow HTTP/1.1\r\nHost: h\r\n\r\nPOST /next HTTP/1.1\r\nHost: h\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            )
            #expect(await probe.wait(for: "started"))
            await client.close()
            // Only the peer-shutdown event can tell: the server is not reading.
            #expect(await probe.wait(for: "cancelled"))
            #expect(await eventually { server.openConnectionCount == 0 })
        }
    }

    @Test func beyondMaxConnectionsANewConnectionGets503AndIsClosed() async throws {
        let configuration = testConfiguration { $0.maxConnections = 2 }
        try await withServer(configuration) { server, port in
            var clients: [RawClient] = []
            for index in 0..<2 {
                let client = try await RawClient.connect(to: port)
                try await client.send("GET /\(index) HTTP/1.1\r\nHost: h\r\n\r\n")
                #expect(try await client.readResponse().status == 200)
                clients.append(client)
            }
            #expect(server.openConnectionCount == 2)
            // The third is answered at once, before it sends anything, and closed.
            let refused = try await RawClient.connect(to: port)
            let response = try await refused.readResponse(timeout: .seconds(2))
            #expect(response.status == 503)
            #expect(response.headers["Retry-After"] == "1")
            #expect(response.headers["Connection"] == "close")
            #expect(response.text.hasPrefix(#"{"error":{"code":"too_many_connections","message":""#))
            #expect(await refused.waitForClose() == .closed(extraBytes: 0))
            #expect(server.openConnectionCount == 2)

            // Once one closes, a new connection is served.
            await clients[0].close()
            #expect(await eventually { server.openConnectionCount == 1 })
            let next = try await RawClient.connect(to: port)
            try await next.send("GET /next HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(try await next.readResponse().text == "GET /next - ")
            // The kept connection was never disturbed.
            try await clients[1].send("GET /still HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(try await clients[1].readResponse().text == "GET /still - ")
        }
    }

    @Test func aFloodOfConnectionsBeyondTheLimitIsRefusedWithoutStallingTheServer() async throws {
        let configuration = testConfiguration { $0.maxConnections = 1 }
        try await withServer(configuration) { server, port in
            let kept = try await RawClient.connect(to: port)
            try await kept.send("GET /kept HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(try await kept.readResponse().status == 200)
            // More than one wake-up's worth of refusals, at once: the pause between batches
            // must end, and every client must get its answer.
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<80 {
                    group.addTask {
                        let client = try await RawClient.connect(to: port)
                        let status = (try? await client.readResponse(timeout: .seconds(5)))?.status ?? 0
                        await client.close()
                        return status
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == 503 }, "\(statuses)")
            #expect(server.openConnectionCount == 1)
            try await kept.send("GET /again HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(try await kept.readResponse().text == "GET /again - ")
        }
    }

    @Test func idleKeepAliveConnectionsAreClosedAfterTheIdleTimeout() async throws {
        let configuration = testConfiguration { $0.idleTimeout = .milliseconds(300) }
        try await withServer(configuration) { server, port in
            let client = try await RawClient.connect(to: port)
            // The idle clock starts once the response is written, so after this moment.
            let start = ContinuousClock.now
            try await client.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(try await client.readResponse().status == 200)
            #expect(await client.waitForClose(timeout: .seconds(5)) == .closed(extraBytes: 0))
            #expect(start.duration(to: .now) >= .milliseconds(300))
            #expect(await eventually { server.openConnectionCount == 0 })
        }
    }

    @Test func aConnectionThatNeverSendsIsClosedSilentlyAfterTheHeaderTimeout() async throws {
        let configuration = testConfiguration { $0.headerTimeout = .milliseconds(300) }
        try await withServer(configuration) { _, port in
            let client = try await RawClient.connect(to: port)
            #expect(await client.waitForClose(timeout: .seconds(5)) == .closed(extraBytes: 0))
        }
    }

    @Test func aStalledResponseIsDroppedAfterTheWriteTimeout() async throws {
        let configuration = testConfiguration { $0.writeTimeout = .milliseconds(300) }
        let large = [UInt8](repeating: 0x61, count: 32 * 1024 * 1024)
        let handler: HTTPHandler = { _ in HTTPResponse(body: large) }
        try await withServer(configuration, handler: handler) { server, port in
            let client = try await RawClient.connect(to: port)
            try await client.send("GET /large HTTP/1.1\r\nHost: h\r\n\r\n")
            // The client never reads, so the socket buffers fill and the write stalls.
            #expect(await eventually(timeout: .seconds(10)) { server.openConnectionCount == 0 })
            await client.close()
        }
    }
}

/// Graceful shutdown, by call and by signal.
@Suite struct HTTPServerShutdownTests {
    @Test func shutdownLetsAnInFlightRequestFinishThenCloses() async throws {
        let probe = Probe()
        let handler: HTTPHandler = { _ in
            probe.record("started")
            try? await Task.sleep(for: .seconds(1))
            return HTTPResponse(contentType: "text/plain", body: "finished")
        }
        let server = HTTPServer(configuration: testConfiguration(), handler: handler)
        try server.start()
        let port = try #require(server.port)
        let busy = try await RawClient.connect(to: port)
        let idle = try await RawClient.connect(to: port)
        try await busy.send("GET /in-flight HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(await probe.wait(for: "started"))

        let shutdown = Task { await server.shutdown(gracePeriod: .seconds(5)) }
        // Idle connections close at once; the listening socket stops accepting.
        #expect(await idle.waitForClose(timeout: .seconds(2)) == .closed(extraBytes: 0))
        #expect(await eventually { isConnectionRefused(port: port) })

        let response = try await busy.readResponse()
        #expect(response.text == "finished")
        #expect(response.headers["Connection"] == "close")
        #expect(await busy.waitForClose() == .closed(extraBytes: 0))
        await shutdown.value
        #expect(server.openConnectionCount == 0)
    }

    @Test func shutdownCancelsWhatOutlastsTheGracePeriod() async throws {
        let probe = Probe()
        let handler: HTTPHandler = { _ in
            probe.record("started")
            do {
                try await Task.sleep(for: .seconds(60))
            } catch {
                probe.record("cancelled")
            }
            return HTTPResponse()
        }
        let server = HTTPServer(configuration: testConfiguration(), handler: handler)
        try server.start()
        let client = try await RawClient.connect(to: try #require(server.port))
        try await client.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(await probe.wait(for: "started"))
        let start = ContinuousClock.now
        await server.shutdown(gracePeriod: .milliseconds(200))
        #expect(start.duration(to: .now) < .seconds(5))
        #expect(await probe.wait(for: "cancelled"))
        #expect(await client.waitForClose() != .stillOpen)
    }

    @Test func aSignalStartsAGracefulShutdown() async throws {
        let server = HTTPServer(configuration: testConfiguration(), handler: echoHandler)
        try server.start()
        server.shutdownOnSignals([SIGUSR2])
        let client = try await RawClient.connect(to: try #require(server.port))
        try await client.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(try await client.readResponse().status == 200)
        kill(getpid(), SIGUSR2)
        await server.waitUntilStopped()
        #expect(await client.waitForClose() == .closed(extraBytes: 0))
    }

    @Test func runReturnsOnceTheServerHasShutDown() async throws {
        let server = HTTPServer(configuration: testConfiguration(), handler: echoHandler)
        let running = Task { try await server.run() }
        #expect(await eventually { server.port != nil })
        let client = try await RawClient.connect(to: try #require(server.port))
        try await client.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(try await client.readResponse().status == 200)
        await server.shutdown()
        try await running.value
    }

    @Test func shutdownOfAServerNeverStartedReturnsAtOnce() async {
        let server = HTTPServer(configuration: testConfiguration(), handler: echoHandler)
        await server.shutdown()
        await server.waitUntilStopped()
    }
}

/// Whether a connection to `port` on loopback is refused right now.
func isConnectionRefused(port: Int) -> Bool {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { Glibc.close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    return result != 0 && errno == ECONNREFUSED
}

import Testing
@testable import HTTP1

@Suite struct BodyBudgetTests {
    @Test func reservesWithinTheLimitAndReleases() {
        let budget = BodyBudget(limit: 100)
        #expect(budget.reserve(60))
        #expect(!budget.reserve(41))
        #expect(budget.reserve(40))
        #expect(budget.reservedBytes == 100)
        #expect(budget.reserve(0))
        budget.release(60)
        #expect(budget.reserve(41))
        #expect(budget.reservedBytes == 81)
    }

    @Test func aBudgetSmallerThanOneBodyIsAConfigurationError() {
        let server = HTTPServer(
            configuration: testConfiguration {
                $0.maxBodyBytes = 1000
                $0.maxInflightBodyBytes = 999
            },
            handler: echoHandler
        )
        #expect(throws: HTTPServerError.invalidConfiguration("maxInflightBodyBytes (999) must be at least maxBodyBytes (1000)")) {
            try server.start()
        }
    }
}

/// The body budget over real sockets: refusals come before the body is sent, and what a
/// request holds is given back when its handler returns or its connection closes.
@Suite struct BodyBudgetServerTests {
    static let budget = 1024 * 1024
    static let held = 600_000

    static func configuration() -> HTTPServer.Configuration {
        testConfiguration {
            $0.maxBodyBytes = budget
            $0.maxInflightBodyBytes = budget
        }
    }

    /// A head declaring `length` bytes, then the body's first `sent` bytes.
    static func upload(_ length: Int, sending sent: Int = 0, expectingContinue: Bool = false) -> [UInt8] {
        let expect = expectingContinue ? "Expect: 100-continue\r\n" : ""
        return Array("POST /upload HTTP/1.1\r\nHost: h\r\n\(expect)Content-Length: \(length)\r\n\r\n".utf8)
            + [UInt8](repeating: 0x62, count: sent)
    }

    static func expectBudgetRefusal(_ response: RawResponse) {
        #expect(response.status == 503)
        #expect(response.headers["Retry-After"] == "1")
        #expect(response.headers["Connection"] == "close")
        #expect(response.text.hasPrefix(#"{"error":{"code":"body_budget_exhausted","message":""#))
    }

    @Test func aBodyThatDoesNotFitIsRefusedBeforeItIsSentAndFitsOnceTheHandlerReturns() async throws {
        let probe = Probe()
        let handler: HTTPHandler = { request in
            probe.record("started \(request.body.count)")
            _ = await probe.wait(for: "finish", timeout: .seconds(10))
            return HTTPResponse(contentType: "text/plain", body: "got \(request.body.count)")
        }
        try await withServer(Self.configuration(), handler: handler) { server, port in
            let holder = try await RawClient.connect(to: port)
            try await holder.send(Self.upload(Self.held, sending: Self.held))
            #expect(await probe.wait(for: "started \(Self.held)"))
            // The handler holds the body, so its bytes still count.
            #expect(server.inflightBodyBytes == Self.held)

            let refused = try await RawClient.connect(to: port)
            try await refused.send(Self.upload(Self.held))
            Self.expectBudgetRefusal(try await refused.readResponse(timeout: .seconds(2)))
            #expect(await refused.waitForClose() == .closed(extraBytes: 0))

            // A client waiting for 100 Continue gets the 503 instead.
            let waiting = try await RawClient.connect(to: port)
            try await waiting.send(Self.upload(Self.held, expectingContinue: true))
            Self.expectBudgetRefusal(try await waiting.readResponse(timeout: .seconds(2)))
            #expect(server.inflightBodyBytes == Self.held)

            probe.record("finish")
            #expect(try await holder.readResponse().text == "got \(Self.held)")
            #expect(await eventually { server.inflightBodyBytes == 0 })

            // The same size now fits, on the same connection.
            try await holder.send(Self.upload(Self.held, sending: Self.held))
            #expect(try await holder.readResponse().text == "got \(Self.held)")
            #expect(await eventually { server.inflightBodyBytes == 0 })
        }
    }

    @Test func aChunkedBodyGrowingPastTheBudgetIsRefused() async throws {
        try await withServer(Self.configuration()) { server, port in
            let holder = try await RawClient.connect(to: port)
            try await holder.send(Self.upload(Self.held, sending: 1000))
            #expect(await eventually { server.inflightBodyBytes == Self.held })

            let chunked = try await RawClient.connect(to: port)
            try await chunked.send(
                "POST /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n10000\r\n"
                    + String(repeating: "c", count: 0x10000) + "\r\n"
            )
            #expect(await eventually { server.inflightBodyBytes == Self.held + 0x10000 })
            // Room is left for 448 576 more bytes; this size line announces 458 752.
            try await chunked.send("70000\r\n")
            Self.expectBudgetRefusal(try await chunked.readResponse(timeout: .seconds(2)))
            #expect(await eventually { server.inflightBodyBytes == Self.held })

            // Closing mid-body gives its reservation back.
            await holder.close()
            #expect(await eventually { server.inflightBodyBytes == 0 })
            let next = try await RawClient.connect(to: port)
            try await next.send(
                "POST /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
            )
            #expect(try await next.readResponse().text == "POST /upload - abc")
            #expect(await eventually { server.inflightBodyBytes == 0 })
        }
    }
}

/// Many clients each declaring a large body and stalling part-way: memory stays within the
/// budget, and the server keeps answering others at once.
@Suite struct BodyBudgetMemoryTests {
    @Test func stalledLargeBodiesStayWithinTheBudget() async throws {
        let budget = 64 * 1024 * 1024
        let declared = 30_000_000
        let sent = 1024 * 1024
        let clientCount = 200
        let configuration = testConfiguration {
            $0.maxInflightBodyBytes = budget
            $0.maxConnections = 256
            $0.bodyTimeout = .seconds(15)
            // Refused connections stay open (draining) while the server is probed.
            $0.lingeringCloseTimeout = .seconds(15)
        }
        let before = try #require(residentMemoryBytes())
        let testStart = ContinuousClock.now
        try await withServer(configuration) { server, port in
            let head = Array("POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: \(declared)\r\n\r\n".utf8)
            let part = [UInt8](repeating: 0x6D, count: sent)
            let clients = try await withThrowingTaskGroup(of: RawClient.self) { group in
                for _ in 0..<clientCount {
                    group.addTask {
                        let client = try await RawClient.connect(to: port)
                        // Sent apart so the clients share one copy of the body's bytes. A
                        // refused client's connection may close under it; that is fine.
                        try await client.send(head)
                        try? await client.send(part)
                        return client
                    }
                }
                return try await group.reduce(into: [RawClient]()) { $0.append($1) }
            }
            var peak = try #require(residentMemoryBytes())
            #expect(server.inflightBodyBytes <= budget)

            // Those beyond the budget were refused before their bodies; the few admitted are
            // still waiting for theirs.
            let statuses = await withTaskGroup(of: Int.self) { group in
                for client in clients {
                    group.addTask { (try? await client.readResponse(timeout: .milliseconds(1500)))?.status ?? 0 }
                }
                return await group.reduce(into: [Int]()) { $0.append($1) }
            }
            peak = max(peak, try #require(residentMemoryBytes()))
            let admitted = budget / declared
            #expect(server.inflightBodyBytes == admitted * declared)
            #expect(statuses.filter { $0 == 0 }.count == admitted, "no answer is a stalled, admitted body")
            #expect(statuses.allSatisfy { $0 == 0 || $0 == 503 })

            // With every one of them still open, a fresh connection is answered at once.
            #expect(server.openConnectionCount == clientCount)
            let probeStart = ContinuousClock.now
            let fresh = try await RawClient.connect(to: port)
            try await fresh.send("GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n")
            let health = try await fresh.readResponse(timeout: .seconds(2))
            let latency = probeStart.duration(to: .now)
            #expect(health.status == 200)
            #expect(latency < .milliseconds(100), "GET /healthz took \(latency)")
            peak = max(peak, try #require(residentMemoryBytes()))

            print("body budget memory: RSS before \(before >> 20) MiB, peak \(peak >> 20) MiB; "
                + "\(statuses.filter { $0 == 503 }.count) refused, \(admitted) admitted; /healthz in \(latency)")
            #expect(peak < budget + 300 * 1024 * 1024, "RSS peaked at \(peak >> 20) MiB")

            for client in clients { await client.close() }
            await fresh.close()
            #expect(await eventually { server.inflightBodyBytes == 0 && server.openConnectionCount == 0 })
            let after = try await RawClient.connect(to: port)
            try await after.send("POST /after HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nok")
            #expect(try await after.readResponse().text == "POST /after - ok")
        }
        #expect(testStart.duration(to: .now) < .seconds(20))
    }
}

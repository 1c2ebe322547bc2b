import Synchronization
import Testing
@testable import HTTP1

/// A request the immediate handler answers gets its answer as a handler's would be sent —
/// checked, with a request id, in request order among pipelined requests — without the
/// handler being called; a request it declines goes to the handler.
struct HTTPImmediateHandlerTests {
    @Test func answersWhatItTakesAndPassesTheRestOnInOrder() async throws {
        let handled = Mutex<[String]>([])
        let immediate: HTTPImmediateHandler = { request in
            guard request.path.hasPrefix("/now") else { return nil }
            return HTTPResponse(status: .ok, contentType: "text/plain", body: "now \(request.path)")
        }
        let handler: HTTPHandler = { request in
            handled.withLock { $0.append(request.path) }
            if request.path == "/slow" { try? await Task.sleep(for: .milliseconds(50)) }
            return HTTPResponse(status: .ok, contentType: "text/plain", body: "handler \(request.path)")
        }
        let server = HTTPServer(configuration: testConfiguration(), immediateHandler: immediate, handler: handler)
        try await withStarted(server) { _, port in
            let client = try await RawClient.connect(to: port)
            let paths = ["/now/1", "/slow", "/now/2", "/later", "/now/3"]
            try await client.send(paths.map { "GET \($0) HTTP/1.1\r\nHost: h\r\n\r\n" }.joined())
            for path in paths {
                let response = try await client.readResponse()
                #expect(response.status == 200)
                #expect(response.text == (path.hasPrefix("/now") ? "now " : "handler ") + path)
                #expect(response.headers["X-Request-ID"]?.isEmpty == false)
                #expect(response.headers["Content-Length"] == String(response.body.count))
            }
            // A body sent to an immediate answer is read and its budget given back.
            try await client.send("POST /now/body HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello")
            #expect(try await client.readResponse().text == "now /now/body")
            #expect(await eventually { server.inflightBodyBytes == 0 })
            await client.close()
        }
        #expect(handled.withLock { $0 } == ["/slow", "/later"])
    }

    /// An immediate answer that cannot be sent is replaced by the same 500 a handler's would.
    @Test func anInvalidAnswerIsRefusedAsAHandlersWouldBe() async throws {
        let immediate: HTTPImmediateHandler = { _ in HTTPResponse(status: .ok, headers: ["Bad Name": "x"], body: []) }
        let server = HTTPServer(configuration: testConfiguration(), immediateHandler: immediate, handler: echoHandler)
        try await withStarted(server) { _, port in
            let client = try await RawClient.connect(to: port)
            try await client.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n")
            let response = try await client.readResponse()
            #expect(response.status == 500 && response.text.contains("invalid_response"))
            await client.close()
        }
    }
}

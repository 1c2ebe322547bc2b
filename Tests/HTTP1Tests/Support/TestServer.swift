import Glibc
import Testing
@testable import HTTP1

/// The I/O backend the servers of these tests run on: `HTTP1_TEST_IO_BACKEND` (`epoll` or
/// `dispatch`; scripts/test runs the suite once with each), or the configuration's default.
let testIOBackend: IOBackend = {
    guard let name = getenv("HTTP1_TEST_IO_BACKEND").map({ String(cString: $0) }), !name.isEmpty else {
        return HTTPServer.Configuration().ioBackend
    }
    do {
        return try IOBackend(name: name)
    } catch {
        fatalError("HTTP1_TEST_IO_BACKEND: \(error)")
    }
}()

/// A configuration for tests: loopback, ephemeral port, timeouts short enough to observe,
/// on `testIOBackend`.
func testConfiguration(_ adjust: (inout HTTPServer.Configuration) -> Void = { _ in }) -> HTTPServer.Configuration {
    var configuration = HTTPServer.Configuration()
    configuration.ioBackend = testIOBackend
    configuration.host = "127.0.0.1"
    configuration.port = 0
    configuration.headerTimeout = .seconds(5)
    configuration.bodyTimeout = .seconds(5)
    configuration.idleTimeout = .seconds(5)
    configuration.writeTimeout = .seconds(5)
    configuration.lingeringCloseTimeout = .milliseconds(500)
    configuration.shutdownGracePeriod = .seconds(2)
    adjust(&configuration)
    return configuration
}

/// Runs `body` against a started server, shutting the server down afterwards either way.
func withServer(
    _ configuration: HTTPServer.Configuration = testConfiguration(),
    headCheck: HTTPHeadCheck? = nil,
    handler: @escaping HTTPHandler = echoHandler,
    _ body: (HTTPServer, Int) async throws -> Void
) async throws {
    try await withStarted(HTTPServer(configuration: configuration, headCheck: headCheck, handler: handler), body)
}

/// Starts `server`, runs `body` against it, and shuts it down afterwards either way.
func withStarted(_ server: HTTPServer, _ body: (HTTPServer, Int) async throws -> Void) async throws {
    try server.start()
    let port = try #require(server.port)
    do {
        try await body(server, port)
    } catch {
        await server.shutdown(gracePeriod: .zero)
        throw error
    }
    await server.shutdown(gracePeriod: .milliseconds(500))
}

/// Answers with a description of the request: method, path, query and body.
let echoHandler: HTTPHandler = { request in
    HTTPResponse(
        contentType: "text/plain",
        body: "\(request.method) \(request.path) \(request.query ?? "-") \(String(decoding: request.body, as: UTF8.self))"
    )
}

// A minimal server on HTTP1 for load tests: GET /healthz answers "ok", POST /echo returns
// the body. Stops gracefully on SIGTERM or SIGINT and then exits with status 0.
//
//   http1-echo [--host 127.0.0.1] [--port 8080] [--event-loops N] [--handlers loop|global]
//              [--io-backend epoll|dispatch]
import Glibc
import HTTP1

/// Writes a line straight to a descriptor (the C stdio globals are not concurrency-safe).
func writeLine(_ text: String, to descriptor: Int32) {
    let line = Array((text + "\n").utf8)
    _ = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
}

func fail(_ message: String) -> Never {
    writeLine("http1-echo: \(message)", to: STDERR_FILENO)
    exit(2)
}

var configuration = HTTPServer.Configuration()
var arguments = CommandLine.arguments.dropFirst()
while let option = arguments.popFirst() {
    guard let value = arguments.popFirst() else { fail("\(option) needs a value") }
    switch option {
    case "--host": configuration.host = value
    case "--port": configuration.port = Int(value) ?? -1
    case "--event-loops": configuration.eventLoopCount = Int(value) ?? 0
    case "--handlers":
        guard value == "loop" || value == "global" else { fail("--handlers takes loop or global") }
        configuration.startsHandlersOnEventLoop = value == "loop"
    case "--io-backend":
        do {
            configuration.ioBackend = try IOBackend(name: value)
        } catch {
            fail("--io-backend takes epoll or dispatch")
        }
    default: fail("unknown option \(option); use --host, --port, --event-loops, --handlers or --io-backend")
    }
}

var router = HTTPRouter()
router.get("/healthz") { _ in HTTPResponse(contentType: "text/plain", body: "ok\n") }
router.post("/echo") { request in
    HTTPResponse(headers: ["Content-Type": request.headers["Content-Type"] ?? "application/octet-stream"], body: request.body)
}

let server = HTTPServer(configuration: configuration, router: router)
do {
    try server.start()
} catch {
    fail("\(error)")
}
server.shutdownOnSignals()
writeLine("http1-echo listening on \(server.addresses.map(\.description).joined(separator: ", "))", to: STDOUT_FILENO)
await server.waitUntilStopped()

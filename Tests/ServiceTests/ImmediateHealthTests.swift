import Foundation
import HTTP1
import Logging
import Synchronization
import Testing
@testable import Service

/// `GET /healthz` answered at once on the event loop is the same answer, the same metrics and
/// the same access-log line as through the handler; every other request is left to the
/// handler.
struct ImmediateHealthTests {
    /// Where a service's log lines go.
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        var all: [String] { lines.withLock { $0 } }
    }

    /// A service writing its lines to `lines`, not loaded (health needs no model).
    static func service(_ lines: Lines) throws -> InCTRLService {
        let logger = Logger(label: "inctrl") { label in
            ServiceLogHandler(label: label, format: .text, level: .info) { line in lines.lines.withLock { $0.append(line) } }
        }
        return try InCTRLService(
            configuration: ServiceConfiguration(),
            store: FileStore(dataDirectory: FileManager.default.temporaryDirectory.appendingPathComponent("health-\(UUID().uuidString)")),
            logger: logger)
    }

    /// A line without its timestamp and its duration, which differ between two requests.
    static func comparable(_ line: String) -> String {
        String(line.drop(while: { $0 != " " })).replacing(#/ ms=[0-9.e+]+ /#, with: " ms=_ ")
    }

    @Test func healthAnsweredAtOnceIsHealthThroughTheHandler() async throws {
        let immediateLines = Lines()
        let handlerLines = Lines()
        let immediateService = try Self.service(immediateLines)
        let handlerService = try Self.service(handlerLines)
        let address = SocketAddress(family: .ipv4, host: "127.0.0.1", port: 40_000)
        let requests = [
            HTTPRequest(method: .get, target: "/healthz", headers: ["Host": "h", "X-Request-ID": "given-1"], remoteAddress: address),
            HTTPRequest(method: .get, target: "/healthz?probe=1", headers: ["Host": "h", "X-Request-ID": "given-2"]),
            HTTPRequest(method: .get, target: "/healthz", headers: ["X-Request-ID": "not valid"], body: Array("x".utf8)),
        ]
        for request in requests {
            let immediate = try #require(immediateService.immediateHandler(request))
            let handled = await handlerService.handler(request)
            #expect(immediate.status == handled.status && immediate.body == handled.body)
            let immediateHeaders = immediate.headers.map { [$0.name, $0.value] }
            let handledHeaders = handled.headers.map { [$0.name, $0.value] }
            if request.headers["X-Request-ID"] == "not valid" {
                // A fresh id each: the same fields otherwise.
                #expect(immediateHeaders.map { $0[0] } == handledHeaders.map { $0[0] })
                #expect(immediate.headers["X-Request-ID"] != "not valid")
            } else {
                #expect(immediateHeaders == handledHeaders)
            }
        }
        let immediate = immediateLines.all.map(Self.comparable)
        let handled = handlerLines.all.map(Self.comparable)
        #expect(immediate.count == 3)
        #expect(Array(immediate.prefix(2)) == Array(handled.prefix(2)))
        #expect(immediate.last?.replacing(#/request_id=\S+/#, with: "") == handled.last?.replacing(#/request_id=\S+/#, with: ""))
        #expect(immediate.first == " info request bytes_in=0 bytes_out=15 key=- method=GET ms=_ path=/healthz remote=127.0.0.1:40000 request_id=given-1 route=/healthz status=200")
        // The metrics agree but for the durations (their sums, and which buckets they fell in).
        func withoutSums(_ text: String) -> [String] {
            text.split(separator: "\n").map(String.init).filter { !$0.contains("_sum") && !$0.contains("duration_seconds_bucket") }
        }
        #expect(withoutSums(immediateService.metrics.render()) == withoutSums(handlerService.metrics.render()))
        #expect(immediateService.metrics.render().contains(#"inctrl_http_requests_total{route="/healthz",method="GET",status="200"} 3"#))
    }

    @Test func everyOtherRequestIsLeftToTheHandler() throws {
        let service = try Self.service(Lines())
        for (method, target) in [
            (HTTPMethod.head, "/healthz"), (.get, "/healthz/"), (.get, "/Healthz"), (.post, "/healthz"), (.get, "/readyz"),
            (.get, "/metrics"), (.get, "/"), (.get, "//healthz"), (.get, "/health%7A"),
        ] {
            #expect(service.immediateHandler(HTTPRequest(method: method, target: target)) == nil, "\(method) \(target)")
        }
        #expect(!service.metrics.render().contains("inctrl_http_requests_total{"))
    }
}

import Foundation
import Logging
import Synchronization
import Testing
@testable import Service

/// API keys through the API of a real service: who may call what, the challenge on 401,
/// 403 for a missing scope, reload on SIGHUP, the rate limit, keys never logged, the audit
/// events, and the refusal to listen beyond loopback without keys.
@Suite(.serialized) struct AccessTests {
    typealias Running = InCTRLServiceTests.Running

    struct Keys {
        let path: String
        let scorer: String
        let admin: String

        init() throws {
            path = try PromptSetTestData.scratchDirectory("access").appendingPathComponent("keys.json").path
            var file = APIKeyFile()
            scorer = try file.create(id: "line-3", scopes: [.score])
            admin = try file.create(id: "qa-admin", scopes: [.admin])
            try file.write(to: path)
        }
    }

    static func bearer(_ key: String) -> [String: String] { ["Authorization": "Bearer \(key)"] }

    @Test func everyRouteButTheProbesNeedsAKeyWithTheRightScope() async throws {
        let keys = try Keys()
        let running = try await Running(dataDirectory: try PromptSetTestData.scratchDirectory("access-data")) { $0.apiKeysFile = keys.path }
        defer { Task { await running.stop() } }
        #expect(try await running.send("GET", "/healthz").status == 200)
        #expect(try await running.send("GET", "/readyz").status == 200)

        for path in ["/prompts", "/metrics", "/openapi.yaml"] {
            let anonymous = try await running.send("GET", path)
            #expect(anonymous.status == 401, "\(path)")
            #expect(anonymous.headers["www-authenticate"] == #"Bearer realm="inctrl""#)
            let wrong = try await running.send("GET", path, headers: Self.bearer("ik_not-a-key"))
            #expect(wrong.status == 401 && wrong.headers["www-authenticate"]?.contains("invalid_token") == true)
            #expect(try await running.send("GET", path, headers: Self.bearer(keys.scorer)).status == 200, "\(path)")
        }

        let images = [try InCTRLServiceTests.cell("0004_functional"), try InCTRLServiceTests.cell("0009_functional")]
        let registration = [UInt8](try JSONSerialization.data(withJSONObject: ["images": images.map { Data($0).base64EncodedString() }]))
        let refused = try await running.send("POST", "/prompts", body: registration, contentType: "application/json", headers: Self.bearer(keys.scorer))
        #expect(refused.status == 403 && refused.headers["www-authenticate"]?.contains("insufficient_scope") == true)
        let code = (try JSONSerialization.jsonObject(with: Data(refused.body)) as? [String: Any]).flatMap(InCTRLServiceTests.errorCode)
        #expect(code == "forbidden")
        let created = try await running.send("POST", "/prompts", body: registration, contentType: "application/json", headers: Self.bearer(keys.admin))
        #expect(created.status == 201)
        let id = try #require((try JSONSerialization.jsonObject(with: Data(created.body)) as? [String: Any])?["id"] as? String)
        // The scorer scores; the admin key includes scoring.
        for key in [keys.scorer, keys.admin] {
            #expect(try await running.send("POST", "/score?prompt_set=\(id)", body: images[0], contentType: "image/png", headers: Self.bearer(key)).status == 200)
        }
        #expect(try await running.send("DELETE", "/prompts/\(id)", headers: Self.bearer(keys.scorer)).status == 403)
        #expect(try await running.send("DELETE", "/prompts/\(id)", headers: Self.bearer(keys.admin)).status == 204)
        let ready = try await running.json("GET", "/readyz")
        #expect(ready.1["authentication"] as? String == "api_keys")
    }

    /// A key, a scope and a prompt set are checked from the request's head: a client that
    /// declares a large body is refused before sending it, even with `Expect: 100-continue`.
    @Test func refusalsComeFromTheHeadBeforeTheBody() async throws {
        let keys = try Keys()
        let running = try await Running(dataDirectory: try PromptSetTestData.scratchDirectory("access-head")) { $0.apiKeysFile = keys.path }
        defer { Task { await running.stop() } }
        let port = running.server.port!
        let unknown = String(repeating: "c", count: 32)
        let cases: [(head: String, status: Int, code: String)] = [
            ("POST /prompts HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: 20000000\r\n", 401, "unauthorized"),
            ("POST /prompts HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer \(keys.scorer)\r\nContent-Type: application/json\r\nContent-Length: 20000000\r\nExpect: 100-continue\r\n", 403, "forbidden"),
            ("POST /score?prompt_set=\(unknown) HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer \(keys.scorer)\r\nContent-Type: image/png\r\nContent-Length: 20000000\r\n", 404, "unknown_prompt_set"),
            ("POST /prompts/\(unknown)/calibration HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer \(keys.admin)\r\nContent-Type: application/json\r\nContent-Length: 20000000\r\nExpect: 100-continue\r\n", 404, "unknown_prompt_set"),
            ("PUT /score HTTP/1.1\r\nHost: h\r\nContent-Length: 20000000\r\n", 405, "method_not_allowed"),
        ]
        for (head, status, code) in cases {
            let client = try LoopbackClient(port: port)
            try client.send(head + "\r\n")
            // Only the head was sent: an answer now means the body was never waited for.
            let response = try await client.readResponse(seconds: 5)
            #expect(response.status == status && response.errorCode == code, "\(head.prefix(40)): \(response.status) \(response.errorCode ?? "-")")
            #expect(response.headers["connection"] == "close")
        }
        // With a key and a known set the body is read as usual.
        #expect(try await running.send("GET", "/prompts", headers: Self.bearer(keys.scorer)).status == 200)
    }

    @Test func metricsCanBePublicAndKeysReloadOnDemand() async throws {
        let keys = try Keys()
        let running = try await Running(dataDirectory: try PromptSetTestData.scratchDirectory("access-reload")) {
            $0.apiKeysFile = keys.path
            $0.metricsPublic = true
        }
        defer { Task { await running.stop() } }
        #expect(try await running.send("GET", "/metrics").status == 200)
        #expect(try await running.send("GET", "/prompts").status == 401)

        // Revoke the scorer and add a key; SIGHUP's handler reloads the file.
        var file = try APIKeyFile.read(keys.path)
        try file.revoke(id: "line-3")
        let newKey = try file.create(id: "line-4", scopes: [.score])
        try file.write(to: keys.path)
        #expect(try await running.send("GET", "/prompts", headers: Self.bearer(keys.scorer)).status == 200, "not reloaded yet")
        running.service.reloadKeys()
        #expect(try await running.send("GET", "/prompts", headers: Self.bearer(keys.scorer)).status == 401)
        #expect(try await running.send("GET", "/prompts", headers: Self.bearer(newKey)).status == 200)
    }

    @Test func theRateLimitAnswers429WithRetryAfter() async throws {
        let running = try await Running(dataDirectory: try PromptSetTestData.scratchDirectory("access-rate")) {
            // One token every 20 s: no refill between these requests, however slow the machine.
            $0.rateLimitPerSecond = 0.05
            $0.rateLimitBurst = 2
        }
        defer { Task { await running.stop() } }
        let started = Date()
        #expect(try await running.send("GET", "/prompts").status == 200)
        #expect(try await running.send("GET", "/prompts").status == 200)
        let limited = try await running.send("GET", "/prompts")
        // The next token comes 20 s after the bucket emptied, less what has passed since: a
        // loaded machine may take seconds over these requests.
        let elapsed = Int(Date().timeIntervalSince(started).rounded(.up))
        let retryAfter = Int(limited.headers["retry-after"] ?? "") ?? 0
        #expect(limited.status == 429 && (max(1, 19 - elapsed)...20).contains(retryAfter), "Retry-After \(retryAfter) after \(elapsed) s")
        let code = (try JSONSerialization.jsonObject(with: Data(limited.body)) as? [String: Any]).flatMap(InCTRLServiceTests.errorCode)
        #expect(code == "rate_limited")
        // The probes are never limited.
        for _ in 0..<5 { #expect(try await running.send("GET", "/healthz").status == 200) }
    }

    /// Log lines name the key's id, never the key; audit events say who changed what.
    @Test func logsNameKeyIdsAndAuditChanges() async throws {
        let keys = try Keys()
        let lines = LogLines()
        let running = try await Running(
            dataDirectory: try PromptSetTestData.scratchDirectory("access-log"),
            logger: Logger(label: "test") { _ in CapturingLogHandler(lines: lines) }) { $0.apiKeysFile = keys.path }
        defer { Task { await running.stop() } }
        let images = [try InCTRLServiceTests.cell("0004_functional"), try InCTRLServiceTests.cell("0011_functional")]
        let body = [UInt8](try JSONSerialization.data(withJSONObject: ["images": images.map { Data($0).base64EncodedString() }]))
        let created = try await running.send("POST", "/prompts", body: body, contentType: "application/json", headers: Self.bearer(keys.admin))
        let id = try #require((try JSONSerialization.jsonObject(with: Data(created.body)) as? [String: Any])?["id"] as? String)
        _ = try await running.send("PUT", "/prompts/\(id)/threshold", body: Array(#"{"threshold": 0.5}"#.utf8), contentType: "application/json", headers: Self.bearer(keys.admin))
        _ = try await running.send("DELETE", "/prompts/\(id)", headers: Self.bearer(keys.admin))
        running.service.reloadKeys()
        let logged = lines.all
        #expect(!logged.contains { $0.contains(keys.admin) || $0.contains(keys.scorer) }, "a key was logged")
        #expect(logged.contains { $0.contains("request") && $0.contains("key=qa-admin") })
        for event in ["prompt_set.registered", "prompt_set.threshold_set", "prompt_set.deleted"] {
            #expect(logged.contains { $0.contains("audit") && $0.contains("event=\(event)") && $0.contains("key=qa-admin") && $0.contains(id) }, "\(event)")
        }
        #expect(logged.contains { $0.contains("event=api_keys.reloaded") && $0.contains("keys=2") })
    }

    /// Listening beyond loopback without keys is refused, with the way out in the message,
    /// unless allowed; then a warning is logged and `/readyz` says so.
    @Test func noAccidentalExposure() async throws {
        for host in ["0.0.0.0", "::", "192.0.2.7", "inspection.example"] {
            #expect { try ServiceConfiguration.load(file: nil, environment: ["INCTRL_HOST": host]) } throws: { error in
                "\(error)".contains("inctrl keys create") && "\(error)".contains("allow_unauthenticated")
            }
        }
        for host in ["127.0.0.1", "127.1.2.3", "localhost", "::1"] {
            #expect(throws: Never.self) { try ServiceConfiguration.load(file: nil, environment: ["INCTRL_HOST": host]) }
        }
        #expect(throws: Never.self) {
            try ServiceConfiguration.load(file: nil, environment: ["INCTRL_HOST": "0.0.0.0", "INCTRL_API_KEYS_FILE": "/etc/inctrl/keys.json"])
        }
        let allowed = try ServiceConfiguration.load(file: nil, environment: ["INCTRL_HOST": "0.0.0.0", "INCTRL_ALLOW_UNAUTHENTICATED": "true"])
        #expect(allowed.allowUnauthenticated)

        let lines = LogLines()
        let running = try await Running(
            dataDirectory: try PromptSetTestData.scratchDirectory("exposed"),
            logger: Logger(label: "test") { _ in CapturingLogHandler(lines: lines) }) {
            $0.host = "0.0.0.0"
            $0.allowUnauthenticated = true
        }
        defer { Task { await running.stop() } }
        let (_, ready) = try await running.json("GET", "/readyz")
        #expect((ready["warning"] as? String)?.contains("UNAUTHENTICATED") == true && ready["authentication"] as? String == "none")
        #expect(lines.all.contains { $0.hasPrefix("critical") && $0.contains("UNAUTHENTICATED") })
    }
}

/// Log lines kept for a test to read.
final class LogLines: Sendable {
    private let lines = Mutex<[String]>([])
    var all: [String] { lines.withLock { $0 } }
    func append(_ line: String) { lines.withLock { $0.append(line) } }
}

/// Keeps every log line as `level message key=value …`, for tests that read the log.
struct CapturingLogHandler: LogHandler {
    let lines: LogLines
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    init(lines: LogLines) { self.lines = lines }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let fields = merged.keys.sorted().map { "\($0)=\(merged[$0]!)" }.joined(separator: " ")
        lines.append("\(event.level) \(event.message) \(fields)")
    }
}

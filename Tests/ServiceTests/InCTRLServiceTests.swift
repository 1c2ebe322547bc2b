import CLIP
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HTTP1
import InCTRL
import Logging
import Testing
@testable import Service

/// The API over real loopback sockets with a tiny demo model: the whole register → score →
/// delete flow, every body form, readiness, admission control and restart.
@Suite(.serialized) struct InCTRLServiceTests {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let cells = repository.appendingPathComponent("Tests/Fixtures/imaging/inputs")

    static func cell(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: cells.appendingPathComponent("png_elpv_cell\(name).png")))
    }

    /// A tiny demo bundle, written once.
    static let bundle: Result<URL, Error> = Result {
        let vocabulary = ProcessInfo.processInfo.environment["INCTRL_VOCAB"].map { URL(fileURLWithPath: $0) }
            ?? repository.appendingPathComponent(".cache/bpe_simple_vocab_16e6.txt.gz")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("service-bundle-\(UUID().uuidString)")
        try DemoBundle.write(architecture: .tiny, seed: 11, vocabulary: vocabulary, to: directory)
        return directory
    }

    /// A running service on an ephemeral loopback port.
    final class Running: Sendable {
        let service: InCTRLService
        let server: HTTPServer
        let base: URL

        init(
            dataDirectory: URL, store: (any PromptSetStore)? = nil, load: Bool = true,
            logger: Logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
            adjust: (inout ServiceConfiguration) -> Void = { _ in }
        ) async throws {
            var configuration = ServiceConfiguration()
            configuration.port = 0
            configuration.model = try InCTRLServiceTests.bundle.get().path
            configuration.dataDirectory = dataDirectory.path
            adjust(&configuration)
            service = try store.map { try InCTRLService(configuration: configuration, store: $0, logger: logger) }
                ?? InCTRLService(configuration: configuration, logger: logger)
            // Tests listen on loopback only, whatever host the service is told it serves.
            var http = configuration.httpServer
            http.host = "127.0.0.1"
            server = HTTPServer(configuration: http, headCheck: service.headCheck, immediateHandler: service.immediateHandler, handler: service.handler)
            try server.start()
            base = URL(string: "http://127.0.0.1:\(server.port!)")!
            let service = self.service
            service.runs(in: server)
            if load { try await service.load() }
        }

        func stop() async {
            await server.shutdown(gracePeriod: .seconds(2))
            await service.registry.close()
        }

        func send(
            _ method: String, _ path: String, body: [UInt8] = [], contentType: String? = nil, headers: [String: String] = [:]
        ) async throws -> (status: Int, headers: [String: String], body: [UInt8]) {
            var request = URLRequest(url: URL(string: path, relativeTo: base)!)
            request.httpMethod = method
            if !body.isEmpty { request.httpBody = Data(body) }
            if let contentType { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
            for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
            let (data, response) = try await URLSession.shared.data(for: request)
            let http = response as! HTTPURLResponse
            var fields: [String: String] = [:]
            for (name, value) in http.allHeaderFields { fields["\(name)".lowercased()] = "\(value)" }
            return (http.statusCode, fields, [UInt8](data))
        }

        func json(_ method: String, _ path: String, body: [UInt8] = [], contentType: String? = nil) async throws -> (Int, [String: Any]) {
            let (status, _, data) = try await send(method, path, body: body, contentType: contentType)
            return (status, (try? JSONSerialization.jsonObject(with: Data(data))) as? [String: Any] ?? [:])
        }
    }

    static func multipart(_ fields: [(name: String, filename: String?, bytes: [UInt8])]) -> (body: [UInt8], contentType: String) {
        let boundary = "test-boundary-\(UUID().uuidString)"
        var body: [UInt8] = []
        for field in fields {
            var head = "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(field.name)\""
            if let filename = field.filename { head += "; filename=\"\(filename)\"\r\nContent-Type: image/png" }
            body += Array((head + "\r\n\r\n").utf8) + field.bytes + Array("\r\n".utf8)
        }
        body += Array("--\(boundary)--\r\n".utf8)
        return (body, "multipart/form-data; boundary=\(boundary)")
    }

    static func errorCode(_ object: [String: Any]) -> String? {
        (object["error"] as? [String: Any])?["code"] as? String
    }

    func dataDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("service-data-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func registerScoreDeleteFlow() async throws {
        let running = try await Running(dataDirectory: try dataDirectory())
        defer { Task { await running.stop() } }
        let prompts = [try Self.cell("0004_functional"), try Self.cell("0009_functional")]
        let form = Self.multipart([("class_name", nil, Array("solar_cell".utf8))] + prompts.enumerated().map { ("images", "p\($0.offset).png", $0.element) })
        let (created, registered) = try await running.json("POST", "/prompts", body: form.body, contentType: form.contentType)
        #expect(created == 201)
        let id = try #require(registered["id"] as? String)
        #expect(id == PromptSetID(className: "solar_cell", images: prompts).hex)
        #expect(registered["shots"] as? Int == 2 && registered["class_name"] as? String == "solar_cell")
        #expect((registered["model"] as? [String: Any])?["demo"] as? Bool == true)

        // The same set again, as JSON with base64: same id, 200.
        let json = try JSONSerialization.data(withJSONObject: ["class_name": "solar_cell", "images": prompts.map { Data($0).base64EncodedString() }])
        let (again, same) = try await running.json("POST", "/prompts", body: [UInt8](json), contentType: "application/json")
        #expect(again == 200 && same["id"] as? String == id)

        // Score as a raw body, as multipart and as JSON: the same image gives the same result.
        let query = try Self.cell("0001_defective")
        let raw = try await running.send("POST", "/score?prompt_set=\(id)", body: query, contentType: "image/png", headers: ["X-Request-ID": "trace-42"])
        #expect(raw.status == 200 && raw.headers["x-request-id"] == "trace-42")
        let result = try #require(try JSONSerialization.jsonObject(with: Data(raw.body)) as? [String: Any])
        let score = try #require(result["score"] as? Double)
        #expect((0...1).contains(score))
        let map = try #require(result["residual_map"] as? [String: Any])
        #expect(map["width"] as? Int == 15 && map["height"] as? Int == 15)
        #expect((map["values"] as? [Double])?.count == 225)
        #expect((map["values"] as? [Double])?.allSatisfy { (0...1).contains($0) } == true)
        let components = try #require(result["components"] as? [String: Double])
        #expect(Set(components.keys) == ["patch", "image", "text", "holistic"])
        #expect(abs(score - (components["holistic"]! + components["patch"]!) / 2) < 1e-6)
        #expect(Set((result["timing_ms"] as? [String: Double])?.keys ?? [:].keys) == ["decode", "preprocess", "queue", "forward", "total"])

        let scoreForm = Self.multipart([("prompt_set", nil, Array(id.utf8)), ("image", "q.png", query)])
        let (formStatus, formResult) = try await running.json("POST", "/score", body: scoreForm.body, contentType: scoreForm.contentType)
        #expect(formStatus == 200 && formResult["score"] as? Double == score)
        let scoreJSON = try JSONSerialization.data(withJSONObject: ["prompt_set": id, "image": Data(query).base64EncodedString()])
        let (jsonStatus, jsonResult) = try await running.json("POST", "/score", body: [UInt8](scoreJSON), contentType: "application/json")
        #expect(jsonStatus == 200 && jsonResult["score"] as? Double == score)

        let (listed, listing) = try await running.json("GET", "/prompts")
        #expect(listed == 200 && (listing["prompt_sets"] as? [[String: Any]])?.map { $0["id"] as? String } == [id])
        let (described, description) = try await running.json("GET", "/prompts/\(id)")
        #expect(described == 200 && (description["images"] as? [[String: Any]])?.count == 2)

        #expect(try await running.send("DELETE", "/prompts/\(id)").status == 204)
        let (gone, goneBody) = try await running.json("POST", "/score?prompt_set=\(id)", body: query, contentType: "image/png")
        #expect(gone == 404 && Self.errorCode(goneBody) == "unknown_prompt_set")
        #expect(try await running.send("GET", "/prompts/\(id)").status == 404)
        #expect(try await running.send("DELETE", "/prompts/\(id)").status == 404)
    }

    @Test func badRequestsGetTypedErrors() async throws {
        let running = try await Running(dataDirectory: try dataDirectory()) { $0.maxImagesPerSet = 2 }
        defer { Task { await running.stop() } }
        let good = try Self.cell("0004_functional")
        let cases: [(String, String, [UInt8], String?, Int, String)] = [
            ("POST", "/prompts", Array("hello".utf8), "text/plain", 415, "unsupported_media_type"),
            ("POST", "/prompts", Array("{".utf8), "application/json", 400, "invalid_json"),
            ("POST", "/prompts", Array(#"{"images": ["***"]}"#.utf8), "application/json", 400, "invalid_base64"),
            ("POST", "/prompts", Array(#"{"class_name": "x"}"#.utf8), "application/json", 400, "missing_field"),
            ("POST", "/prompts", Array(#"{"images": []}"#.utf8), "application/json", 400, "missing_field"),
            ("POST", "/prompts", Array(#"{"images": ["aGVsbG8="]}"#.utf8), "application/json", 422, "undecodable_image"),
            ("POST", "/prompts", Array("--x\r\nbroken".utf8), "multipart/form-data; boundary=x", 400, "invalid_multipart"),
            ("POST", "/score", good, "image/png", 400, "missing_field"),
            ("POST", "/score?prompt_set=../../etc", good, "image/png", 404, "unknown_prompt_set"),
            ("GET", "/prompts/not-an-id", [], nil, 404, "unknown_prompt_set"),
            ("GET", "/nothing-here", [], nil, 404, "not_found"),
        ]
        for (method, path, body, contentType, status, code) in cases {
            let (actual, object) = try await running.json(method, path, body: body, contentType: contentType)
            #expect(actual == status && Self.errorCode(object) == code, "\(method) \(path): \(actual) \(object)")
        }
        let three = [UInt8](try JSONSerialization.data(withJSONObject: ["images": Array(repeating: Data(good).base64EncodedString(), count: 3)]))
        let (tooMany, tooManyBody) = try await running.json("POST", "/prompts", body: three, contentType: "application/json")
        #expect(tooMany == 413 && Self.errorCode(tooManyBody) == "too_many_images")
        let wrongMethod = try await running.send("PUT", "/score")
        #expect(wrongMethod.status == 405 && wrongMethod.headers["allow"]?.contains("POST") == true)
        #expect(wrongMethod.headers["x-request-id"]?.count == 32)
    }

    @Test func notReadyUntilLoadedThenReady() async throws {
        let running = try await Running(dataDirectory: try dataDirectory(), load: false)
        defer { Task { await running.stop() } }
        #expect(try await running.send("GET", "/healthz").status == 200)
        let early = try await running.send("GET", "/readyz")
        #expect(early.status == 503 && early.headers["retry-after"] == "1")
        let (scoreEarly, body) = try await running.json("POST", "/score?prompt_set=\(String(repeating: "a", count: 32))", body: [1], contentType: "image/png")
        #expect(scoreEarly == 503 && Self.errorCode(body) == "not_ready")
        try await running.service.load()
        let (ready, readiness) = try await running.json("GET", "/readyz")
        #expect(ready == 200 && readiness["status"] as? String == "ready")
    }

    @Test func aFullQueueAnswers429WithRetryAfter() async throws {
        let running = try await Running(dataDirectory: try dataDirectory()) { $0.queueSize = 1; $0.retryAfterSeconds = 3 }
        defer { Task { await running.stop() } }
        let prompts = [try Self.cell("0004_functional")]
        let json = [UInt8](try JSONSerialization.data(withJSONObject: ["images": prompts.map { Data($0).base64EncodedString() }]))
        let (_, registered) = try await running.json("POST", "/prompts", body: json, contentType: "application/json")
        let id = try #require(registered["id"] as? String)

        let model = try await running.service.registry.model()
        let gate = DispatchSemaphore(value: 0)
        let blocker = Task { try await model.run { () throws(InCTRLError) in gate.wait() } }
        while model.queueDepth == 0 { try await Task.sleep(for: .milliseconds(5)) }
        let busy = try await running.send("POST", "/score?prompt_set=\(id)", body: try Self.cell("0001_defective"), contentType: "image/png")
        // Refused from the head: a client announcing a large image gets the 429 before sending it.
        let flooding = try LoopbackClient(port: running.server.port!)
        try flooding.send("POST /score?prompt_set=\(id) HTTP/1.1\r\nHost: h\r\nContent-Type: image/png\r\nContent-Length: 10000000\r\n\r\n")
        let early = try await flooding.readResponse(seconds: 5)
        #expect(early.status == 429 && early.errorCode == "queue_full" && early.headers["connection"] == "close" && early.headers["retry-after"] == "3")
        gate.signal()
        _ = try await blocker.value
        #expect(busy.status == 429 && busy.headers["retry-after"] == "3")
        let metricsBody = try await running.send("GET", "/metrics").body
        let exposition = String(decoding: metricsBody, as: UTF8.self)
        #expect(exposition.contains(#"inctrl_rejected_requests_total{reason="queue_full"} 2"#))
        #expect(exposition.contains(#"route="/score""#) && !exposition.contains(id))
        #expect(try await running.send("POST", "/score?prompt_set=\(id)", body: try Self.cell("0001_defective"), contentType: "image/png").status == 200)
    }

    @Test func aRestartRestoresPromptSetsAndScoresIdentically() async throws {
        let data = try dataDirectory()
        let query = try Self.cell("0002_defective")
        let first = try await Running(dataDirectory: data)
        let json = [UInt8](try JSONSerialization.data(withJSONObject: [
            "class_name": "cell", "images": [try Self.cell("0004_functional"), try Self.cell("0011_functional")].map { Data($0).base64EncodedString() },
        ]))
        let (_, registered) = try await first.json("POST", "/prompts", body: json, contentType: "application/json")
        let id = try #require(registered["id"] as? String)
        let (_, before) = try await first.json("POST", "/score?prompt_set=\(id)", body: query, contentType: "image/png")
        await first.stop()

        let second = try await Running(dataDirectory: data)
        defer { Task { await second.stop() } }
        let (status, after) = try await second.json("POST", "/score?prompt_set=\(id)", body: query, contentType: "image/png")
        #expect(status == 200)
        #expect(after["score"] as? Double == before["score"] as? Double)
        #expect((after["residual_map"] as? [String: Any])?["values"] as? [Double] == (before["residual_map"] as? [String: Any])?["values"] as? [Double])
    }

    /// The model's SHA-256 is kept in the data directory: the first start hashes the weights,
    /// a restart on the same bundle takes it from `model-hashes.json`.
    @Test func aRestartTakesTheModelHashFromTheDataDirectory() async throws {
        let data = try dataDirectory()
        let first = try await Running(dataDirectory: data)
        let firstModel = try await first.service.registry.model().model
        await first.stop()
        #expect(!firstModel.weightsDigest.reused)
        #expect(FileManager.default.fileExists(atPath: data.appendingPathComponent("model-hashes.json").path))

        let second = try await Running(dataDirectory: data)
        let secondModel = try await second.service.registry.model().model
        await second.stop()
        #expect(secondModel.weightsDigest.reused)
        #expect(secondModel.identity == firstModel.identity)
    }

    /// bf16 is a precision of its own: responses say so, scores stay close to fp32's, and its
    /// features live in their own cache, so switching precision never serves the other's.
    @Test(.enabled(if: InCTRLModel.supports(.bf16), "this CPU has no native bf16 multiply"))
    func bf16ServesItsOwnPrecisionAndFeatureCache() async throws {
        let data = try dataDirectory()
        let query = try Self.cell("0002_defective")
        let json = [UInt8](try JSONSerialization.data(withJSONObject: [
            "class_name": "cell", "images": [try Self.cell("0004_functional"), try Self.cell("0011_functional")].map { Data($0).base64EncodedString() },
        ]))
        func scoreOnce(_ precision: ServiceConfiguration.Precision) async throws -> [String: Any] {
            let running = try await Running(dataDirectory: data) { $0.precision = precision }
            let (_, registered) = try await running.json("POST", "/prompts", body: json, contentType: "application/json")
            let id = try #require(registered["id"] as? String)
            let (status, result) = try await running.json("POST", "/score?prompt_set=\(id)", body: query, contentType: "image/png")
            await running.stop()
            #expect(status == 200)
            #expect((result["model"] as? [String: Any])?["precision"] as? String == precision.rawValue)
            return result
        }
        let fp32 = try await scoreOnce(.fp32)
        let bf16 = try await scoreOnce(.bf16)
        let fp32Again = try await scoreOnce(.fp32)

        let exact = try #require(fp32["score"] as? Double)
        let reduced = try #require(bf16["score"] as? Double)
        #expect(reduced != exact, "bf16 gave fp32's score bit for bit: it did not run in bf16")
        #expect(abs(reduced - exact) < 0.05, "bf16 score \(reduced) against fp32 \(exact)")
        #expect(fp32Again["score"] as? Double == exact)
        #expect((fp32Again["residual_map"] as? [String: Any])?["values"] as? [Double] == (fp32["residual_map"] as? [String: Any])?["values"] as? [Double])

        let caches = try FileManager.default.contentsOfDirectory(atPath: data.appendingPathComponent("feature-cache").path).sorted()
        #expect(caches.count == 2 && caches[1] == caches[0] + "-bf16", "\(caches)")
    }
}

import Dispatch
import Foundation
import HTTP1
import InCTRL
import Testing
@testable import Service

/// No dead contract: every error code `openapi.yaml` documents is produced by a request
/// sent here to a real service over a loopback socket, with the documented status; and
/// every code the service or its HTTP server can produce is documented.
@Suite(.serialized) struct ErrorCatalogueTests {
    /// `code → status` from the two error tables of the document's introduction (the
    /// service's and the HTTP server's).
    static func documentedStatuses() -> [String: Int] {
        var statuses: [String: Int] = [:]
        for line in OpenAPIDocumentTests.lines {
            guard let row = line.wholeMatch(of: #/    \| (\d{3}) \| (.*) \|/#) else { continue }
            for code in row.output.2.matches(of: /`([a-z0-9_]+)`/) { statuses[String(code.output.1)] = Int(row.output.1)! }
        }
        return statuses
    }

    /// Every code listed in an `enum` of the `*Error` schemas.
    static func schemaCodes() -> Set<String> {
        var codes: Set<String> = []
        var inErrorSchema = false, inEnumBlock = false
        for line in OpenAPIDocumentTests.lines {
            // A schema's name sits at four spaces of indentation under components/schemas.
            if let name = line.wholeMatch(of: #/    ([A-Za-z]+):/#) { inErrorSchema = name.output.1.hasSuffix("Error") }
            guard inErrorSchema else { continue }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if let inline = trimmed.wholeMatch(of: /enum: \[(.*)\]/) {
                for code in inline.output.1.split(separator: ",") { codes.insert(code.trimmingCharacters(in: .whitespaces)) }
            }
            if trimmed == "enum:" {
                inEnumBlock = true
            } else if inEnumBlock, trimmed.hasPrefix("- ") {
                codes.insert(String(trimmed.dropFirst(2)))
            } else {
                inEnumBlock = false
            }
        }
        return codes
    }

    /// Every error the HTTP server's parser answers with, each with a request that causes it
    /// (with the limits of the catalogue's service). The switch is exhaustive, so a new case
    /// does not compile until it has a request here.
    static let parseErrors: [(HTTPParseError, String)] = [
        HTTPParseError.requestLineTooLong(limit: 0), .malformedRequestLine, .invalidRequestTarget, .unsupportedVersion,
        .bareLineFeed, .headerSectionTooLarge(limit: 0), .tooManyHeaderFields(limit: 0), .obsoleteLineFolding,
        .whitespaceBeforeColon, .malformedHeaderField, .invalidHeaderValue, .missingHost, .duplicateHost, .invalidHost,
        .invalidContentLength, .duplicateContentLength, .contentLengthWithTransferEncoding, .transferEncodingInHTTP10,
        .invalidTransferEncoding, .unsupportedTransferCoding("gzip"), .bodyTooLarge(limit: 0), .invalidChunkSize,
        .invalidChunkExtension, .chunkLineTooLong(limit: 0), .missingChunkTerminator, .unsupportedExpectation,
    ].map { ($0, request(causing: $0)) }

    static func request(causing error: HTTPParseError) -> String {
        let chunked = "POST /score HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        switch error {
        case .requestLineTooLong: return "GET /" + String(repeating: "a", count: 9000) + " HTTP/1.1\r\nHost: h\r\n\r\n"
        case .malformedRequestLine: return "GET  / HTTP/1.1\r\nHost: h\r\n\r\n"
        case .invalidRequestTarget: return "GET * HTTP/1.1\r\nHost: h\r\n\r\n"
        case .unsupportedVersion: return "GET / HTTP/2.0\r\nHost: h\r\n\r\n"
        case .bareLineFeed: return "GET / HTTP/1.1\nHost: h\n\n"
        case .headerSectionTooLarge: return "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + String(repeating: "b", count: 5000) + "\r\n\r\n"
        case .tooManyHeaderFields: return "GET / HTTP/1.1\r\nHost: h\r\n" + (0..<101).map { "h\($0): v\r\n" }.joined() + "\r\n"
        case .obsoleteLineFolding: return "GET / HTTP/1.1\r\nHost: h\r\nX-Folded: a\r\n b\r\n\r\n"
        case .whitespaceBeforeColon: return "GET / HTTP/1.1\r\nHost : h\r\n\r\n"
        case .malformedHeaderField: return "GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n"
        case .invalidHeaderValue: return "GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n"
        case .missingHost: return "GET / HTTP/1.1\r\n\r\n"
        case .duplicateHost: return "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"
        case .invalidHost: return "GET / HTTP/1.1\r\nHost: a b\r\n\r\n"
        case .invalidContentLength: return "POST /score HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\nhello"
        case .duplicateContentLength: return "POST /score HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello"
        case .contentLengthWithTransferEncoding: return "POST /score HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        case .transferEncodingInHTTP10: return "POST /score HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        case .invalidTransferEncoding: return "POST /score HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, identity\r\n\r\n"
        case .unsupportedTransferCoding: return "POST /score HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
        case .bodyTooLarge: return "POST /score HTTP/1.1\r\nHost: h\r\nContent-Length: 2000000\r\n\r\n"
        case .invalidChunkSize: return chunked + "zz\r\nhello\r\n0\r\n\r\n"
        case .invalidChunkExtension: return chunked + "5;\r\nhello\r\n0\r\n\r\n"
        case .chunkLineTooLong: return chunked + "5;" + String(repeating: "e", count: 5000) + "\r\nhello\r\n0\r\n\r\n"
        case .missingChunkTerminator: return chunked + "5\r\nhelloX\r\n0\r\n\r\n"
        case .unsupportedExpectation: return "POST /score HTTP/1.1\r\nHost: h\r\nExpect: tea\r\nContent-Length: 1\r\n\r\nx"
        }
    }

    /// The service's own codes and the HTTP server's are all documented, with their statuses.
    @Test func everyProducibleCodeIsDocumented() {
        let documented = Self.documentedStatuses()
        for code in APIError.Code.allCases {
            #expect(documented[code.rawValue] == code.status, "\(code.rawValue)")
        }
        for (error, _) in Self.parseErrors {
            #expect(documented[error.code] == error.status.code, "\(error.code)")
        }
        for (code, status) in [("method_not_allowed", 405), ("method_not_implemented", 501), ("not_found", 404), ("invalid_path", 400), ("request_timeout", 408)] {
            #expect(documented[code] == status, "\(code)")
        }
        #expect(Self.schemaCodes() == Set(documented.keys), "the error schemas' enums and the tables disagree")
    }

    /// One request for every documented code, each sent to a real service.
    @Test func everyDocumentedCodeIsProducedByARequest() async throws {
        let dataDirectory = try PromptSetTestData.scratchDirectory("catalogue")
        let running = try await InCTRLServiceTests.Running(dataDirectory: dataDirectory) {
            $0.maxImagesPerSet = 2
            $0.maxPromptSets = 1
            $0.queueSize = 1
            $0.maxBodyBytes = 1 << 20
            $0.maxImageBytes = 100_000
            $0.maxHeaderBytes = 4096
            $0.headerTimeout = .milliseconds(300)
        }
        defer { Task { await running.stop() } }
        let port = running.server.port!
        let cell = try InCTRLServiceTests.cell("0004_functional")
        func raw(_ text: String) async throws -> LoopbackClient.Response {
            let client = try LoopbackClient(port: port)
            try client.send(text)
            return try await client.readResponse()
        }
        func request(_ method: String, _ path: String, _ body: [UInt8] = [], _ contentType: String? = nil) async throws -> LoopbackClient.Response {
            var head = "\(method) \(path) HTTP/1.1\r\nHost: h\r\nContent-Length: \(body.count)\r\n"
            if let contentType { head += "Content-Type: \(contentType)\r\n" }
            let client = try LoopbackClient(port: port)
            try client.send(Array((head + "\r\n").utf8) + body)
            return try await client.readResponse()
        }
        func json(_ object: Any) throws -> [UInt8] { [UInt8](try JSONSerialization.data(withJSONObject: object)) }
        let validID = String(repeating: "a", count: 32)

        // The one prompt set this service may hold; a second one is refused.
        let registered = try await request("POST", "/prompts", try json(["images": [Data(cell).base64EncodedString()]]), "application/json")
        #expect(registered.status == 201)
        func registeredID() throws -> String {
            try #require((try JSONSerialization.jsonObject(with: Data(registered.body)) as? [String: Any])?["id"] as? String)
        }

        var produced: [String: () async throws -> LoopbackClient.Response] = [
            "invalid_json": { try await request("POST", "/prompts", Array("{".utf8), "application/json") },
            "invalid_base64": { try await request("POST", "/prompts", try json(["images": ["***"]]), "application/json") },
            "invalid_multipart": { try await request("POST", "/prompts", Array("--x\r\nbroken".utf8), "multipart/form-data; boundary=x") },
            "missing_field": { try await request("POST", "/prompts", try json(["class_name": "x"]), "application/json") },
            "invalid_field": { try await request("POST", "/prompts", try json(["images": 5]), "application/json") },
            "invalid_path": { try await request("GET", "/prompts/%zz") },
            "invalid_threshold": { try await request("POST", "/score?prompt_set=\(try registeredID())&threshold=1.5", cell, "image/png") },
            "unknown_prompt_set": { try await request("GET", "/prompts/\(validID)") },
            "not_found": { try await request("GET", "/nothing-here") },
            "method_not_allowed": { try await request("PUT", "/score") },
            "too_many_prompt_sets": {
                try await request("POST", "/prompts", try json(["images": [Data(try InCTRLServiceTests.cell("0009_functional")).base64EncodedString()]]), "application/json")
            },
            "too_many_images": { try await request("POST", "/prompts", try json(["images": Array(repeating: Data(cell).base64EncodedString(), count: 3)]), "application/json") },
            "image_too_large": { try await request("POST", "/prompts", try json(["images": [Data(count: 150_000).base64EncodedString()]]), "application/json") },
            "unsupported_media_type": { try await request("POST", "/prompts", Array("hello".utf8), "text/plain") },
            // The registry is full, so an undecodable registration would be refused before its
            // images are decoded: a query image shows the code instead.
            "undecodable_image": { try await request("POST", "/score?prompt_set=\(try registeredID())", Array("hello".utf8), "image/png") },
            "queue_full": {
                let model = try await running.service.registry.model()
                let gate = DispatchSemaphore(value: 0)
                let blocker = Task { _ = try await model.run { () throws(InCTRLError) in gate.wait() } }
                while model.queueDepth == 0 { try await Task.sleep(for: .milliseconds(5)) }
                defer { gate.signal() }
                let response = try await request("POST", "/score?prompt_set=\(try registeredID())", cell, "image/png")
                gate.signal()
                _ = try await blocker.value
                return response
            },
            "method_not_implemented": { try await raw("BREW /score HTTP/1.1\r\nHost: h\r\n\r\n") },
            "request_timeout": { try await raw("GET /healthz HTTP/1.1\r\n") },
        ]
        for (error, text) in Self.parseErrors where produced[error.code] == nil {
            produced[error.code] = { try await raw(text) }
        }
        // The codes that need a service in another state are produced by the tests named
        // here, and checked to exist by name.
        let elsewhere: [String: String] = [
            "not_ready": "InCTRLServiceTests.notReadyUntilLoadedThenReady",
            "shutting_down": "ErrorCatalogueTests.aShuttingDownServerRefusesNewModelWork",
            "internal_error": "ErrorCatalogueTests.aStoreFailureIsAnInternalError",
            "unauthorized": "AccessTests.everyRouteButTheProbesNeedsAKeyWithTheRightScope",
            "forbidden": "AccessTests.everyRouteButTheProbesNeedsAKeyWithTheRightScope",
            "rate_limited": "AccessTests.theRateLimitAnswers429WithRetryAfter",
            "store_unavailable": "PostgresReplicaTests.anUnreachableDatabaseAnswers503StoreUnavailable",
        ]

        let documented = Self.documentedStatuses()
        #expect(Set(produced.keys).union(elsewhere.keys) == Set(documented.keys), "codes without a request, or requests for undocumented codes")
        for (code, send) in produced.sorted(by: { $0.key < $1.key }) {
            let response = try await send()
            #expect(response.errorCode == code && response.status == documented[code], "\(code): got \(response.status) \(response.errorCode ?? "-")")
        }
    }

    /// A request whose body was still arriving when shutdown began is refused with
    /// `shutting_down` instead of starting model work; readiness turns 503 too.
    @Test func aShuttingDownServerRefusesNewModelWork() async throws {
        let running = try await InCTRLServiceTests.Running(dataDirectory: try PromptSetTestData.scratchDirectory("shutdown"))
        // A registered set, so the request passes the checks made from its head.
        let registration = [UInt8](try JSONSerialization.data(withJSONObject: ["images": [Data(try InCTRLServiceTests.cell("0004_functional")).base64EncodedString()]]))
        let id = try #require(try await running.json("POST", "/prompts", body: registration, contentType: "application/json").1["id"] as? String)
        let connectionsBefore = running.server.openConnectionCount
        let client = try LoopbackClient(port: running.server.port!)
        let image = try InCTRLServiceTests.cell("0001_defective")
        try client.send(Array("POST /score?prompt_set=\(id) HTTP/1.1\r\nHost: h\r\nContent-Type: image/png\r\nContent-Length: \(image.count)\r\n\r\n".utf8) + image.prefix(100))
        // The connection must be accepted and its head read before shutdown stops accepting
        // (a connection still in the kernel's backlog would be reset, not refused).
        while running.server.openConnectionCount <= connectionsBefore { try await Task.sleep(for: .milliseconds(5)) }
        try await Task.sleep(for: .milliseconds(100))
        let shutdown = Task { await running.server.shutdown(gracePeriod: .seconds(5)) }
        while !running.server.isShuttingDown { try await Task.sleep(for: .milliseconds(5)) }
        await #expect(throws: APIError.self, "readiness must refuse") { try await running.service.readiness() }
        try client.send(Array(image.dropFirst(100)))
        let response = try await client.readResponse()
        #expect(response.status == 503 && response.errorCode == "shutting_down", "\(response.status) \(response.errorCode ?? "-")")
        await shutdown.value
    }

    /// A store that cannot write (its directory replaced by a file) answers 500
    /// `internal_error`, with the details only in the log.
    @Test func aStoreFailureIsAnInternalError() async throws {
        let dataDirectory = try PromptSetTestData.scratchDirectory("store-failure")
        let running = try await InCTRLServiceTests.Running(dataDirectory: dataDirectory)
        defer { Task { await running.stop() } }
        let sets = dataDirectory.appendingPathComponent("prompt-sets")
        try FileManager.default.removeItem(at: sets)
        try Data("not a directory".utf8).write(to: sets)
        let body = [UInt8](try JSONSerialization.data(withJSONObject: ["images": [Data(try InCTRLServiceTests.cell("0004_functional")).base64EncodedString()]]))
        let (status, object) = try await running.json("POST", "/prompts", body: body, contentType: "application/json")
        #expect(status == 500 && InCTRLServiceTests.errorCode(object) == "internal_error")
        #expect((object["error"] as? [String: Any])?["message"] as? String == "The prompt-set store failed; the server log has the details.")
        // Nothing was committed: the set is not served.
        let (listed, listing) = try await running.json("GET", "/prompts")
        #expect(listed == 200 && (listing["prompt_sets"] as? [Any])?.isEmpty == true)
    }
}

import Foundation
import InCTRL
import Testing
@testable import Service

/// Dynamic batching through the API: score requests that arrive together, for different
/// prompt sets and with their own thresholds, are computed in one vision forward (the
/// `inctrl_batch_size` histogram says so) and each answers exactly what it answers alone.
@Suite(.serialized) struct BatchingTests {
    typealias Running = InCTRLServiceTests.Running

    static let queries = ["0001_defective", "0002_defective", "0003_defective", "0004_functional"]

    /// `inctrl_batch_size` as scraped: the count, and the count of batches of exactly `size`.
    static func batches(_ running: Running, ofSize size: Int) async throws -> (count: Double, ofSize: Double) {
        let text = String(decoding: try await running.send("GET", "/metrics").body, as: UTF8.self)
        let exposition = try PrometheusExposition(parsing: text)
        func sample(_ name: String, _ labels: [String: String] = [:]) -> Double {
            exposition.samples.first { $0.name == name && $0.labels == labels }?.value ?? 0
        }
        return (
            sample("inctrl_batch_size_count"),
            sample("inctrl_batch_size_bucket", ["le": "\(size)"]) - sample("inctrl_batch_size_bucket", ["le": "\(size - 1)"])
        )
    }

    /// What a client compares: every number of the result and the decision.
    static func outcome(_ body: [String: Any]) -> String {
        let map = (body["residual_map"] as? [String: Any])?["values"] as? [Double] ?? []
        let decision = body["decision"] as? [String: Any] ?? [:]
        return "\(body["prompt_set"] ?? "-") \(body["score"] ?? "-") \((body["components"] as? [String: Double] ?? [:]).sorted { $0.key < $1.key }) "
            + "\(map) \(decision.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })"
    }

    static func object(_ bytes: [UInt8]) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] ?? [:]
    }

    @Test func concurrentScoresShareOneForwardAndAnswerWhatEachAnswersAlone() async throws {
        let running = try await Running(dataDirectory: try PromptSetTestData.scratchDirectory("batching")) {
            $0.maxBatch = 8
            $0.queueSize = 16
        }
        defer { Task { await running.stop() } }
        var ids: [String] = []
        for shots in [["0004_functional", "0009_functional"], ["0011_functional"]] {
            let (status, registered) = try await running.json(
                "POST", "/prompts", body: try DecisionTests.json(["images": try DecisionTests.base64(shots)]), contentType: "application/json")
            #expect(status == 201)
            ids.append(try #require(registered["id"] as? String))
        }
        // Four single queries over both sets, two with a threshold of their own, and a
        // four-image batch: eight queries in all.
        let singles = (0..<4).map { index in
            let threshold = [nil, "0", "1", nil][index].map { "&threshold=\($0)" } ?? ""
            return (path: "/score?prompt_set=\(ids[index % 2])\(threshold)", image: Self.queries[index])
        }
        let batchImages = try Self.queries.reversed().map { try InCTRLServiceTests.cell($0) }
        let form = InCTRLServiceTests.multipart(batchImages.enumerated().map { ("images", "\($0.offset).png", $0.element) })
        let batchPath = "/score/batch?prompt_set=\(ids[1])&threshold=0.5"
        let before = try await Self.batches(running, ofSize: 8)

        // Hold the model so that all eight queue up, then let them go at once.
        let model = try await running.service.registry.model()
        let gate = DispatchSemaphore(value: 0)
        let blocker = Task { _ = try await model.run { () throws(InCTRLError) in gate.wait() } }
        let singleTasks = try singles.map { single in
            let image = try InCTRLServiceTests.cell(single.image)
            return Task { try await running.send("POST", single.path, body: image, contentType: "image/png") }
        }
        let batchTask = Task { try await running.send("POST", batchPath, body: form.body, contentType: form.contentType) }
        let deadline = ContinuousClock.now + .seconds(120)
        while model.waitingQueries < 8, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(model.waitingQueries == 8)
        gate.signal()
        _ = try await blocker.value

        var batched: [String] = []
        for task in singleTasks {
            let answer = try await task.value
            #expect(answer.status == 200)
            batched.append(Self.outcome(Self.object(answer.body)))
        }
        let batchAnswer = try await batchTask.value
        #expect(batchAnswer.status == 200)
        let batchResults = Self.object(batchAnswer.body)["results"] as? [[String: Any]] ?? []
        #expect(batchResults.count == 4)
        batched += batchResults.map(Self.outcome)
        let after = try await Self.batches(running, ofSize: 8)
        #expect(after.count - before.count == 1, "one vision forward for the eight queries")
        #expect(after.ofSize - before.ofSize == 1, "of eight queries")

        // The same requests one after another, each computed alone.
        var sequential: [String] = []
        for single in singles {
            let (status, body) = try await running.json("POST", single.path, body: try InCTRLServiceTests.cell(single.image), contentType: "image/png")
            #expect(status == 200)
            sequential.append(Self.outcome(body))
        }
        for image in batchImages {
            let (status, body) = try await running.json("POST", "/score?prompt_set=\(ids[1])&threshold=0.5", body: image, contentType: "image/png")
            #expect(status == 200)
            sequential.append(Self.outcome(body))
        }
        let alone = try await Self.batches(running, ofSize: 1)
        #expect(alone.count - after.count == 8)
        #expect(batched == sequential)
        // The thresholds stayed each request's own.
        #expect(batched[1].contains("anomalous=1") && batched[1].contains("source=request"))
        #expect(batched[2].contains("anomalous=0") && batched[2].contains("source=request"))
        #expect(Set(batched).count == 8)
    }

    @Test func maxBatchOfOneRunsEveryQueryAlone() async throws {
        let running = try await Running(dataDirectory: try PromptSetTestData.scratchDirectory("batching-off")) {
            $0.maxBatch = 1
        }
        defer { Task { await running.stop() } }
        let (_, registered) = try await running.json(
            "POST", "/prompts", body: try DecisionTests.json(["images": try DecisionTests.base64(["0004_functional"])]),
            contentType: "application/json")
        let id = try #require(registered["id"] as? String)
        let model = try await running.service.registry.model()
        #expect(model.batching.maxBatch == 1)
        let form = InCTRLServiceTests.multipart(try Self.queries.map { ("images", "\($0).png", try InCTRLServiceTests.cell($0)) })
        let (status, _) = try await running.json("POST", "/score/batch?prompt_set=\(id)", body: form.body, contentType: form.contentType)
        #expect(status == 200)
        let batches = try await Self.batches(running, ofSize: 1)
        #expect(batches.count == 4 && batches.ofSize == 4)
    }
}

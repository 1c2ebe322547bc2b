import Synchronization
import CLIP
import Foundation
import Tensor
import Testing
@testable import InCTRL

/// The whole query path in Swift — native checkpoint import, both towers, tokenizer, text
/// prior, residual heads — against the PyTorch reference (`tools/make_inctrl_fixtures.py`).
@Suite struct InCTRLModelTests {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = repository.appendingPathComponent("Tests/Fixtures/inctrl-tiny")

    /// `INCTRL_VOCAB` (set by `scripts/test`), else where `scripts/fetch-vocab` puts it.
    static var vocabulary: URL {
        if let path = ProcessInfo.processInfo.environment["INCTRL_VOCAB"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        return repository.appendingPathComponent(".cache/bpe_simple_vocab_16e6.txt.gz")
    }

    /// One converted bundle and loaded model for the whole suite.
    static let loaded: Result<(InCTRLModel, SafeTensorsFile), Error> = Result {
        let bundle = FileManager.default.temporaryDirectory.appendingPathComponent("inctrl-model-\(UUID().uuidString)")
        _ = try CheckpointConverter.convert(
            checkpoint: fixtures.appendingPathComponent("checkpoint.pyth"), architecture: .tiny,
            specs: InCTRLArchitecture.bundleTensors(for: .tiny), vocabulary: vocabulary, to: bundle)
        let model = try InCTRLModel(bundle: ModelBundle.open(bundle))
        let reference = try SafeTensorsFile(contentsOf: fixtures.appendingPathComponent("reference.safetensors"))
        return (model, reference)
    }

    func image(_ name: String, _ reference: SafeTensorsFile) throws -> Tensor {
        try Tensor(shape: [3, 240, 240], scalars: reference.floats("image.\(name)", shape: [3, 240, 240]))
    }

    func relativeError(_ values: [Float], _ expected: [Float]) -> Float {
        let scale = max(1, expected.map(abs).max() ?? 1)
        return zip(values, expected).map { abs($0 - $1) }.max()! / scale
    }

    @Test(arguments: ["prompt.0", "prompt.1", "query.0", "query.1"])
    func imageFeaturesMatch(name: String) throws {
        let (model, reference) = try Self.loaded.get()
        let features = try model.imageFeatures(try image(name, reference))
        #expect(relativeError(features.embedding, try reference.floats("cls.\(name)")) < 1e-5)
        for (index, layer) in [7, 9, 11].enumerated() {
            #expect(relativeError(features.taps[index].scalars, try reference.floats("tap\(layer).\(name)")) < 1e-5, "tap \(layer)")
        }
    }

    @Test func textPriorMatches() throws {
        let (model, reference) = try Self.loaded.get()
        let prior = try model.textPrior(className: "metal_nut")
        #expect(relativeError(prior.normal, try reference.floats("text.normal")) < 1e-5)
        #expect(relativeError(prior.anomalous, try reference.floats("text.anomalous")) < 1e-5)
    }

    @Test func scoresMatchEndToEnd() async throws {
        let (model, reference) = try Self.loaded.get()
        let actor = ModelActor(model: model, capacity: 4)
        let promptSet = try await actor.promptSetFeatures(images: [image("prompt.0", reference), image("prompt.1", reference)]).result
        #expect(relativeError(promptSet.prototype, try reference.floats("prototype")) < 1e-5)
        let prior = try await actor.textPrior(className: "metal_nut").result
        for query in ["query.0", "query.1"] {
            let (result, timing) = try await actor.score(image: try image(query, reference), promptSet: promptSet, textPrior: prior)
            #expect(relativeError(result.residualMap, try reference.floats("map.\(query)")) < 1e-5)
            let expected = try reference.floats("scores.\(query)")
            for (name, (value, target)) in zip(["s_p", "s_i", "s_a", "s_h", "score"], zip(result.inReferenceOrder, expected)) {
                #expect(abs(value - target) < 1e-5, "\(query) \(name): \(value) vs reference \(target)")
            }
            #expect(timing.compute > 0 && timing.queue >= 0)
        }
    }

    @Test func repeatedAndConcurrentScoringIsBitIdentical() async throws {
        let (model, reference) = try Self.loaded.get()
        let actor = ModelActor(model: model, capacity: 8)
        let promptSet = try model.promptSetFeatures(images: [image("prompt.0", reference)])
        let prior = try model.textPrior(className: "metal_nut")
        let query = try image("query.1", reference)
        let alone = try model.score(image: query, promptSet: promptSet, textPrior: prior)
        let results = try await withThrowingTaskGroup(of: InCTRLScore.self) { group in
            for _ in 0..<4 {
                group.addTask { try await actor.score(image: query, promptSet: promptSet, textPrior: prior).result }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.allSatisfy { $0 == alone })
    }

    /// Starts work on `actor` that waits for `gate`, and returns once the actor has admitted it.
    func occupy(_ actor: ModelActor, until gate: DispatchSemaphore) async throws -> Task<Void, Error> {
        let admitted = actor.queueDepth + 1
        let work = Task { _ = try await actor.run { () throws(InCTRLError) in gate.wait() } }
        while actor.queueDepth < admitted { try await Task.sleep(for: .milliseconds(5)) }
        return work
    }

    @Test func aFullQueueRefusesAtOnceAndACancelledWaiterIsDropped() async throws {
        let (model, _) = try Self.loaded.get()
        let actor = ModelActor(model: model, capacity: 1)
        let gate = DispatchSemaphore(value: 0)
        // Occupy the single slot with work that waits for the gate.
        let blocker = try await occupy(actor, until: gate)
        await #expect(throws: ModelActor.AdmissionError.queueFull(capacity: 1)) {
            try await actor.run { () throws(InCTRLError) in () }
        }
        gate.signal()
        _ = try await blocker.value
        #expect(actor.queueDepth == 0)

        // A waiter cancelled before its turn never runs its work.
        let second = ModelActor(model: model, capacity: 2)
        let ran = Mutex(false)
        let holder = try await occupy(second, until: gate)
        let waiter = Task { try await second.run { () throws(InCTRLError) in ran.withLock { $0 = true } } }
        while second.queueDepth < 2 { try await Task.sleep(for: .milliseconds(5)) }
        waiter.cancel()
        gate.signal()
        _ = try await holder.value
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(!ran.withLock { $0 })
    }

    /// The actor is pure compute: every request runs the model again (no text prior or
    /// feature is kept between calls), and each finished piece of work is counted.
    @Test func computesEveryRequestAndCountsTheWork() async throws {
        let (model, _) = try Self.loaded.get()
        let actor = ModelActor(model: model, capacity: 2)
        let expected = try model.textPrior(className: "screw")
        for round in 1...2 {
            let prior = try await actor.textPrior(className: "screw").result
            #expect(prior.normal == expected.normal && prior.anomalous == expected.anomalous)
            #expect(actor.completedWork == round)
        }
    }
}

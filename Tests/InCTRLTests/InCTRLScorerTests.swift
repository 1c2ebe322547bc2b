import CLIP
import Foundation
import Tensor
import Testing
@testable import InCTRL

/// The scoring math against the PyTorch reference (`tools/make_inctrl_fixtures.py`), fed the
/// reference's own tower outputs so that only InCTRL's part is under test here. The checkpoint
/// goes through the native converter first, so the heads come from the released file format.
@Suite struct InCTRLScorerTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/inctrl-tiny")

    let reference: SafeTensorsFile
    let weights: InCTRLWeights
    let engine: ComputeEngine

    init() throws {
        reference = try SafeTensorsFile(contentsOf: Self.fixtures.appendingPathComponent("reference.safetensors"))
        let bundle = FileManager.default.temporaryDirectory.appendingPathComponent("inctrl-scorer-\(UUID().uuidString)")
        let vocabulary = FileManager.default.temporaryDirectory.appendingPathComponent("vocab-\(UUID().uuidString).gz")
        try Data([0x1f, 0x8b]).write(to: vocabulary)
        _ = try CheckpointConverter.convert(
            checkpoint: Self.fixtures.appendingPathComponent("checkpoint.pyth"), architecture: .tiny,
            specs: InCTRLArchitecture.bundleTensors(for: .tiny), vocabulary: vocabulary, to: bundle)
        let opened = try ModelBundle.open(bundle)
        weights = try InCTRLWeights(from: opened.tensors, config: opened.config)
        engine = try ComputeEngine()
    }

    func features(_ name: String) throws -> ImageFeatures {
        ImageFeatures(
            embedding: try reference.floats("cls.\(name)"),
            taps: try [7, 9, 11].map { layer in
                try Tensor(shape: [225, 64], scalars: reference.floats("tap\(layer).\(name)", shape: [225, 64]))
            })
    }

    /// Max |a − b| relative to the reference's largest magnitude (at least 1).
    func relativeError(_ values: [Float], _ expected: [Float]) -> Float {
        let scale = max(1, expected.map(abs).max() ?? 1)
        return zip(values, expected).map { abs($0 - $1) }.max()! / scale
    }

    @Test(arguments: ["query.0", "query.1"])
    func everyIntermediateMatchesTheReference(query: String) throws {
        let promptSet = try PromptSetFeatures(
            shots: [features("prompt.0"), features("prompt.1")], adapter: weights.adapter, engine: engine)
        #expect(relativeError(promptSet.prototype, try reference.floats("prototype")) < 1e-5)

        let prior = TextPrior(
            className: "metal_nut", normal: try reference.floats("text.normal"), anomalous: try reference.floats("text.anomalous"))
        let result = try InCTRLScorer(weights: weights, engine: engine)
            .score(query: try features(query), promptSet: promptSet, textPrior: prior)

        #expect(result.residualMap.count == 225)
        #expect(relativeError(result.residualMap, try reference.floats("map.\(query)")) < 1e-5)
        let expected = try reference.floats("scores.\(query)")
        for (name, (value, reference)) in zip(["s_p", "s_i", "s_a", "s_h", "score"], zip(result.inReferenceOrder, expected)) {
            #expect(abs(value - reference) < 1e-5, "\(name): \(value) vs reference \(reference)")
        }
    }

    @Test func theMapIsADistanceInTheUnitInterval() throws {
        let promptSet = try PromptSetFeatures(shots: [features("prompt.0")], adapter: weights.adapter, engine: engine)
        let prior = TextPrior(className: "x", normal: [Float](repeating: 0, count: 31) + [1], anomalous: [1] + [Float](repeating: 0, count: 31))
        let own = try InCTRLScorer(weights: weights, engine: engine)
            .score(query: try features("prompt.0"), promptSet: promptSet, textPrior: prior)
        // A shot scored against itself has every patch at distance ~0 from its own copy.
        #expect(own.residualMap.allSatisfy { $0 >= 0 && $0 < 1e-5 })
        let other = try InCTRLScorer(weights: weights, engine: engine)
            .score(query: try features("query.0"), promptSet: promptSet, textPrior: prior)
        #expect(other.residualMap.allSatisfy { $0 > 0 && $0 <= 1 })
        #expect(other.components.patch > own.components.patch)
    }
}

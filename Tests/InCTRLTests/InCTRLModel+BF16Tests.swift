import CLIP
import Foundation
import Tensor
import Testing
@testable import InCTRL

/// InCTRL with bf16 towers against PyTorch running the same scheme
/// (`tools/make_inctrl_fixtures.py --precision bf16`: tower matmuls, the vision tower's
/// attention products included, on bf16-rounded operands with fp32 sums, heads in fp32).
///
/// The text prior is held tight. The image side is not: through twelve vision blocks a bf16
/// rounding that one order of summation takes up and another down compounds, so two exact
/// PyTorch runs of the scheme that differ only in their order of sums already lie 2.8e-4
/// apart on the residual map and 5.9e-5 on the scores (`--order-spread`; the previous
/// scheme, with attention's products in fp32, measured 1.9e-4 and 1.1e-3 the same way: how
/// far a flip carries varies); the CLIP suite `BF16ParityTests` checks the towers'
/// exactness where that has not spread yet.
@Suite(.enabled(if: ComputeEngine.multipliesBF16Natively, "this CPU has no native bf16 multiply"))
struct InCTRLModelBF16Tests {
    /// The tiny fixture converted and loaded with bf16 towers, and both references.
    static let loaded: Result<(model: InCTRLModel, fp32: SafeTensorsFile, bf16: SafeTensorsFile), Error> = Result {
        let fixtures = InCTRLModelTests.fixtures
        let bundle = FileManager.default.temporaryDirectory.appendingPathComponent("inctrl-bf16-\(UUID().uuidString)")
        _ = try CheckpointConverter.convert(
            checkpoint: fixtures.appendingPathComponent("checkpoint.pyth"), architecture: .tiny,
            specs: InCTRLArchitecture.bundleTensors(for: .tiny), vocabulary: InCTRLModelTests.vocabulary, to: bundle)
        return (
            try InCTRLModel(bundle: ModelBundle.open(bundle), precision: .bf16),
            try SafeTensorsFile(contentsOf: fixtures.appendingPathComponent("reference.safetensors")),
            try SafeTensorsFile(contentsOf: fixtures.appendingPathComponent("reference-bf16.safetensors"))
        )
    }

    func image(_ name: String, _ reference: SafeTensorsFile) throws -> Tensor {
        try Tensor(shape: [3, 240, 240], scalars: reference.floats("image.\(name)", shape: [3, 240, 240]))
    }

    func maxDifference(_ values: [Float], _ expected: [Float]) -> Float {
        zip(values, expected).map { abs($0 - $1) }.max() ?? .infinity
    }

    @Test func reportsItsPrecisionAndKeysCachesByIt() throws {
        let (model, _, _) = try Self.loaded.get()
        let (fp32Model, _) = try InCTRLModelTests.loaded.get()
        #expect(model.precision == .bf16 && model.info.precision == "bf16")
        #expect(model.identity == fp32Model.identity + "-bf16")
    }

    /// 242 prompts: a rounding flip in one moves the normalised mean by about 1e-5
    /// (measured 2.2e-5 at most), while bf16 moves it 2.4e-3 from fp32.
    @Test func textPriorMatchesTheEmulatedReference() throws {
        let (model, fp32, bf16) = try Self.loaded.get()
        let prior = try model.textPrior(className: "metal_nut")
        for (name, values) in [("normal", prior.normal), ("anomalous", prior.anomalous)] {
            let emulatedError = maxDifference(values, try bf16.floats("text.\(name)"))
            let fp32Gap = maxDifference(values, try fp32.floats("text.\(name)"))
            #expect(emulatedError <= 1e-4, "\(name): \(emulatedError) from the emulated bf16 prior")
            #expect(fp32Gap > 1e-3 && fp32Gap < 1e-2, "\(name): \(fp32Gap) from the fp32 prior")
        }
    }

    /// Measured: map 2.0e-4 and scores 3.6e-4 from the emulated reference, 5.0e-4 and 1.4e-3
    /// from fp32.
    @Test func scoresStayWithinTheSpreadOfTheScheme() throws {
        let (model, fp32, bf16) = try Self.loaded.get()
        let promptSet = try model.promptSetFeatures(images: [image("prompt.0", fp32), image("prompt.1", fp32)])
        #expect(maxDifference(promptSet.prototype, try bf16.floats("prototype")) < 2e-3)
        let prior = try model.textPrior(className: "metal_nut")
        for query in ["query.0", "query.1"] {
            let result = try model.score(image: image(query, fp32), promptSet: promptSet, textPrior: prior)
            let scores = result.inReferenceOrder
            for (reference, mapBound, scoreBound) in [(bf16, Float(1e-3), Float(2e-3)), (fp32, 2e-3, 5e-3)] {
                let label = "\(query) against \(reference === bf16 ? "emulated bf16" : "fp32")"
                let mapError = maxDifference(result.residualMap, try reference.floats("map.\(query)"))
                let scoreError = maxDifference(scores, try reference.floats("scores.\(query)"))
                #expect(mapError < mapBound, "\(label): map \(mapError)")
                #expect(scoreError < scoreBound, "\(label): scores \(scoreError)")
            }
        }
    }
}

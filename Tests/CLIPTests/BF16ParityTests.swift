import CLIP
import Foundation
import Tensor
import Testing

/// The bf16 towers against PyTorch running the same scheme (`tools/make_bf16_reference.py`:
/// every tower matmul's operands rounded to bf16, fp32 accumulation, and so the vision
/// tower's attention products too, q, k, v and the probabilities rounded to bf16; everything
/// else fp32).
///
/// Exactness is checked where rounding flips (see `RowAgreement`) have not yet spread: the
/// stream after the first block, the projection of a given class token, and the text
/// embeddings. Through the twelve vision blocks the flips compound until every row differs:
/// two exact PyTorch runs of the scheme that differ only in the order of their fp32 sums lie
/// 3.0e-3 apart at `pooled` and 2.6e-3 at tap 11, relative to each tensor's scale
/// (`--order-spread`), so the whole tower is held to a bound of that size instead.
@Suite(.enabled(if: ComputeEngine.multipliesBF16Natively, "this CPU has no native bf16 multiply"))
struct BF16ParityTests {
    /// A row agrees when it is within this of the reference: summation-order noise, which
    /// measures 1.5e-7 (median) and 3e-7 (90th percentile) per row at tap 1.
    static let rowTolerance: Float = 1e-5
    /// The most that flips may move a row: flips in the first block moved one by up to 1.0e-3
    /// (a bf16 key or value feeds every row of its sequence, so its flips reach further than
    /// a linear layer's).
    static let flipBound: Float = 2e-3
    /// The least distance from fp32 every bf16 row must keep, ten times `rowTolerance`, so
    /// that a tower that silently ran in fp32 fails. The closest row measures 1.4e-3 from fp32.
    static let fp32Separation: Float = 10 * rowTolerance

    /// The rows flips may disturb: a tenth of them, at least one (measured: at most 5 of 225).
    static func flipAllowance(rows: Int) -> Int { max(1, rows / 10) }

    let fixture: CLIPFixture
    let emulated: SafeTensorsFile
    let engine: ComputeEngine

    init() throws {
        fixture = try CLIPFixture()
        emulated = try fixture.bf16Reference()
        engine = try ComputeEngine()
    }

    func visionWeights(_ precision: WeightPrecision) throws -> VisionWeights {
        let config = fixture.bundle.config
        return try VisionWeights(
            loading: fixture.bundle.tensors, config: config.vision, embedDim: config.embedDim, engine: engine,
            precision: precision)
    }

    /// `agreement` of a bf16 output with the emulated reference: all but the flip allowance
    /// of its rows within `rowTolerance`, none beyond `flipBound`.
    func expectExact(_ agreement: RowAgreement) {
        let rows = agreement.rowErrors.count
        #expect(
            agreement.rows(within: Self.rowTolerance) >= rows - Self.flipAllowance(rows: rows),
            "\(agreement): \(agreement.rows(within: Self.rowTolerance)) rows within \(Self.rowTolerance)")
        #expect(agreement.maxError <= Self.flipBound, "\(agreement)")
    }

    /// `agreement` of a bf16 output with fp32: every row well outside `rowTolerance`, yet
    /// within `bound`.
    func expectApart(_ agreement: RowAgreement, bound: Float) {
        #expect(agreement.minError > Self.fp32Separation, "\(agreement): bf16 rows as close to fp32 as to bf16")
        #expect(agreement.maxError <= bound, "\(agreement)")
    }

    @Test func everyTowerMatmulIsPackedInBF16() throws {
        let config = fixture.bundle.config
        let vision = try visionWeights(.bf16)
        let text = try TextWeights(
            loading: fixture.bundle.tensors, config: config.text, embedDim: config.embedDim, engine: engine, precision: .bf16)
        let blockMatmuls = (vision.blocks + text.blocks).flatMap {
            $0.queryKeyValue.layers + [$0.attentionOutput, $0.mlpExpand, $0.mlpContract]
        }
        let matmuls = [vision.patchEmbedding, vision.projection, text.projection] + blockMatmuls
        // The vision blocks pack q, k and v apart for attention in bf16; the text blocks fused.
        #expect(matmuls.count == 3 + 6 * config.vision.layers + 4 * config.text.layers)
        #expect(matmuls.allSatisfy { $0.precision == .bf16 })
        #expect(try visionWeights(.fp32).projection.precision == .fp32)
        #expect(try visionWeights(.fp32).blocks.allSatisfy { $0.queryKeyValue.layers.count == 1 })
    }

    /// The patch embedding and the first block's four matmuls and two attention products.
    @Test func firstBlockMatchesTheEmulatedReferenceRowByRow() throws {
        let bf16 = try CLIPModel(bundle: fixture.bundle, engine: engine, precision: .bf16)
        let fp32 = try CLIPModel(bundle: fixture.bundle, engine: engine)
        for index in 0..<fixture.imageCount {
            let image = try fixture.image(index)
            let tap = try #require(try bf16.vision.encode(image, tapLayers: [1]).tap(layer: 1))
            let fp32Tap = try #require(try fp32.vision.encode(image, tapLayers: [1]).tap(layer: 1))
            expectExact(try RowAgreement("image \(index) tap 1", tap, fixture.row(index, of: "tap_1", in: emulated)))
            expectApart(try RowAgreement("image \(index) tap 1 against fp32", tap, fp32Tap), bound: 1e-2)
        }
    }

    /// ln_post in fp32, then `proj` in bf16, on the reference's final class tokens.
    @Test func projectionMatchesTheEmulatedReference() throws {
        let classTokens = try fixture.tensor("class_token", in: emulated)
        func projected(_ weights: VisionWeights) throws -> Tensor {
            try engine.linear(engine.layerNorm(classTokens, weights.postNorm), weights.projection)
        }
        let bf16 = try projected(visionWeights(.bf16))
        expectExact(try RowAgreement("projection", bf16, fixture.tensor("pooled", in: emulated)))
        expectApart(try RowAgreement("projection against fp32", bf16, projected(visionWeights(.fp32))), bound: 1e-2)
    }

    /// All three text blocks and `text_projection` (the text tower's attention stays fp32):
    /// flips rarely reach the end-of-text rows.
    @Test func textTowerMatchesTheEmulatedReference() throws {
        let model = try CLIPModel(bundle: fixture.bundle, engine: engine, precision: .bf16)
        let text = try model.text.encode(fixture.tokenRows())
        expectExact(try RowAgreement("text", text, fixture.tensor("text", in: emulated)))
        // Measured up to 2.4e-2: the tiny text tower is 16 wide, so each rounding weighs more.
        expectApart(try RowAgreement("text against fp32", text, fixture.tensor("text")), bound: 5e-2)
    }

    /// Twelve blocks, where flips have spread to every row: within a few times the spread
    /// of the scheme itself (measured up to 3.4e-3 from the emulation), and within a sane
    /// distance of fp32 (measured up to 7.4e-3).
    @Test func wholeVisionTowerStaysWithinTheSpreadOfTheScheme() throws {
        let model = try CLIPModel(bundle: fixture.bundle, engine: engine, precision: .bf16)
        let tapLayers = fixture.bundle.config.tapLayers
        for index in 0..<fixture.imageCount {
            let features = try model.vision.encode(fixture.image(index), tapLayers: tapLayers)
            var outputs = [("pooled", features.pooled)]
            for layer in tapLayers { outputs.append(("tap_\(layer)", try #require(features.tap(layer: layer)))) }
            for (name, output) in outputs {
                let scheme = try RowAgreement("image \(index) \(name)", output, fixture.row(index, of: name, in: emulated))
                #expect(scheme.maxError <= 1e-2, "\(scheme)")
                let fp32 = try RowAgreement("image \(index) \(name) against fp32", output, fixture.row(index, of: name))
                #expect(fp32.maxError <= 2e-2, "\(fp32)")
            }
        }
    }
}

import Foundation
import Testing
@testable import Tensor

/// Batching stacks B images' token rows into one linear layer of B·226 rows. That is exact
/// only if each output row is the same bits whatever the row count: these are the four
/// linear layers of a ViT-B-16-plus-240 block at their true sizes, weights packed for 226
/// rows as `VisionWeights` packs them, checked for B = 1…8 in each precision.
@Suite struct RowCountTests {
    let engine: ComputeEngine
    init() throws { engine = try ComputeEngine() }

    /// The tokens of one 240 px image (225 patches and the class token).
    static let tokens = 226
    static let maxBatch = 8

    /// `(in, out, epilogue)` of the block's linear layers: q|k|v, attention output, MLP.
    static let layers: [(Int, Int, LinearEpilogue)] = [
        (896, 2688, .none), (896, 896, .residualAdd), (896, 3584, .gelu), (3584, 896, .residualAdd),
    ]

    static var precisions: [WeightPrecision] {
        ComputeEngine.multipliesBF16Natively ? [.fp32, .bf16] : [.fp32]
    }

    @Test func rowsOfAFullSizeLinearDoNotDependOnTheRowCount() throws {
        var random = SeededGenerator(seed: 31)
        // Inputs and residuals wide enough for every layer, drawn once.
        let input = Self.uniform(Self.maxBatch * Self.tokens * 3584, bound: 1, &random)
        let residual = Self.uniform(Self.maxBatch * Self.tokens * 3584, bound: 1, &random)
        for (inFeatures, outFeatures, epilogue) in Self.layers {
            let weight = Self.uniform(outFeatures * inFeatures, bound: 0.05, &random)
            let bias = Self.uniform(outFeatures, bound: 1, &random)
            for precision in Self.precisions {
                let packed = try engine.packLinear(
                    weight: weight, orientation: .outputMajor, inFeatures: inFeatures, outFeatures: outFeatures, bias: bias,
                    typicalRows: Self.tokens, precision: precision)
                func run(firstImage: Int, images: Int) throws -> [Float] {
                    let rows = images * Self.tokens
                    let first = firstImage * Self.tokens
                    let output = try engine.linear(
                        Tensor(shape: [rows, inFeatures], scalars: Array(input[(first * inFeatures)..<((first + rows) * inFeatures)])),
                        packed, epilogue: epilogue,
                        residual: epilogue == .residualAdd
                            ? Tensor(shape: [rows, outFeatures], scalars: Array(residual[(first * outFeatures)..<((first + rows) * outFeatures)]))
                            : nil)
                    return output.scalars
                }
                let alone = try (0..<Self.maxBatch).map { try run(firstImage: $0, images: 1) }
                for batch in 1...Self.maxBatch {
                    let stacked = try run(firstImage: 0, images: batch)
                    let differing = (0..<batch).filter { image in
                        !Self.sameBits(stacked, from: image * Self.tokens * outFeatures, as: alone[image])
                    }
                    #expect(
                        differing.isEmpty,
                        "\(precision) \(inFeatures)→\(outFeatures) \(epilogue), B = \(batch): images \(differing) differ from the images alone")
                }
            }
        }
    }

    /// `count` uniform samples in ±`bound`.
    static func uniform(_ count: Int, bound: Float, _ random: inout SeededGenerator) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            random.fillUniform(buffer, bound: bound)
            initialized = count
        }
    }

    /// Whether `values[offset...]` begins with exactly the bits of `expected`.
    static func sameBits(_ values: [Float], from offset: Int, as expected: [Float]) -> Bool {
        values.withUnsafeBytes { values in
            expected.withUnsafeBytes { expected in
                memcmp(values.baseAddress! + offset * MemoryLayout<Float>.stride, expected.baseAddress!, expected.count) == 0
            }
        }
    }
}

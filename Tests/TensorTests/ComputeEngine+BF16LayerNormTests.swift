import Foundation
import Testing
@testable import Tensor

/// The LayerNorm that writes bf16 (`ComputeEngine.layerNorm(_:_:intoBF16:)`), both its
/// AVX-512 kernel and the portable one, against the LayerNorm in double precision rounded to
/// bf16 and against oneDNN's fp32 LayerNorm rounded: almost every value exact, and the rest
/// within a bf16 rounding plus the fp32 statistics' own error (which, near a row's mean,
/// where values are small, can be more than one of their bf16 units).
struct BF16LayerNormTests {
    let engine: ComputeEngine
    init() throws { engine = try ComputeEngine() }

    static func bf16Bits(_ value: Float) -> UInt16 { BF16SoftmaxTests.bf16Bits(value) }

    /// Rows of activations as the residual stream carries them (random around a per-row
    /// offset), plus a row offset well beyond its spread (where a one-pass variance would
    /// cancel) and a constant row (variance 0: the output is the shift).
    static func rows(_ rows: Int, width: Int, seed: UInt64) -> [Float] {
        var random = SeededGenerator(seed: seed)
        var values = random.floats(rows * width, in: -3...3)
        for row in 0..<rows { for i in 0..<width { values[row * width + i] += Float(row % 5) - 2 } }
        if rows > 2 {
            for i in 0..<width { values[i] = 40 + values[i] }
            for i in 0..<width { values[width + i] = 0.5 }
        }
        return values
    }

    static func reference(_ input: [Float], width: Int, scale: [Float], shift: [Float], epsilon: Float) -> [UInt16] {
        var result = [UInt16](repeating: 0, count: input.count)
        for start in stride(from: 0, to: input.count, by: width) {
            let row = input[start..<start + width].map(Double.init)
            let mean = row.reduce(0, +) / Double(width)
            let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(width)
            let inverse = 1 / (variance + Double(epsilon)).squareRoot()
            for (i, x) in row.enumerated() {
                result[start + i] = bf16Bits(Float((x - mean) * inverse * Double(scale[i]) + Double(shift[i])))
            }
        }
        return result
    }

    func normed(_ input: [Float], rows: Int, width: Int, _ weights: LayerNormWeights, vectorized: Bool) throws -> [UInt16] {
        var input = input
        var output = [UInt16](repeating: 0xFFFF, count: input.count)
        try input.withUnsafeMutableBufferPointer { i in
            try output.withUnsafeMutableBytes { o in
                try engine.layerNorm(
                    TensorView(i.baseAddress!, shape: [rows, width]), weights, intoBF16: o.baseAddress!, vectorized: vectorized)
            }
        }
        return output
    }

    @Test(arguments: [1, 15, 16, 17, 64, 896, 1000], [true, false])
    func valuesAreTheRoundedLayerNorm(width: Int, vectorized: Bool) throws {
        let rows = 37
        var random = SeededGenerator(seed: UInt64(width) + 1)
        let scale = random.floats(width, in: 0.5...1.5)
        let shift = random.floats(width, in: -0.2...0.2)
        let weights = try LayerNormWeights(scale: scale, shift: shift, epsilon: 1e-5)
        let input = Self.rows(rows, width: width, seed: UInt64(width))
        let output = try normed(input, rows: rows, width: width, weights, vectorized: vectorized)

        let expected = Self.reference(input, width: width, scale: scale, shift: shift, epsilon: 1e-5)
        expectClose(output, expected, width: width, "against double precision")
        // The constant row is its shift, exactly.
        if width > 1 { #expect(Array(output[width..<2 * width]) == shift.map(Self.bf16Bits)) }

        // oneDNN's fp32 LayerNorm, rounded: its sums run in another order.
        var fp32 = [Float](repeating: 0, count: input.count)
        var source = input
        try source.withUnsafeMutableBufferPointer { s in
            try fp32.withUnsafeMutableBufferPointer { f in
                try engine.layerNorm(
                    TensorView(s.baseAddress!, shape: [rows, width]), weights, into: TensorView(f.baseAddress!, shape: [rows, width]))
            }
        }
        expectClose(output, fp32.map(Self.bf16Bits), width: width, "against oneDNN's fp32 LayerNorm")
    }

    /// At most one value in 200 differs from `expected`, and each by at most one bf16 unit
    /// of the expected value plus 1e-5 of its row's largest magnitude.
    func expectClose(_ output: [UInt16], _ expected: [UInt16], width: Int, _ what: String) {
        let float = BF16SoftmaxTests.float
        var differing = 0
        for row in 0..<output.count / width {
            let values = row * width..<(row + 1) * width
            let largest = values.map { abs(float(expected[$0])) }.max()!
            for i in values where output[i] != expected[i] {
                differing += 1
                let (value, reference) = (float(output[i]), float(expected[i]))
                let unit = reference == 0 ? 0 : Float(sign: .plus, exponent: reference.exponent - 7, significand: 1)
                #expect(abs(value - reference) <= unit + 1e-5 * largest, "\(what): row \(row): \(value) for \(reference)")
            }
        }
        #expect(differing * 200 <= output.count, "\(what): \(differing) of \(output.count) differ")
    }

    @Test func refusesViewsItCannotRead() throws {
        let weights = try LayerNormWeights(scale: [1, 1, 1, 1], shift: [0, 0, 0, 0])
        var input = [Float](repeating: 0, count: 12)
        var output = [UInt16](repeating: 0, count: 12)
        input.withUnsafeMutableBufferPointer { i in
            output.withUnsafeMutableBytes { o in
                #expect(throws: TensorError.self) {
                    try engine.layerNorm(TensorView(i.baseAddress!, shape: [4, 3]), weights, intoBF16: o.baseAddress!)
                }
                #expect(throws: TensorError.self) {
                    try engine.layerNorm(TensorView(i.baseAddress!, shape: [3, 4], strides: [1, 3]), weights, intoBF16: o.baseAddress!)
                }
            }
        }
    }
}

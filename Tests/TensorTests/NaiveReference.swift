import Foundation
import Tensor

extension SeededGenerator {
    /// `count` uniform samples in `range`, the same on every run.
    mutating func floats(_ count: Int, in range: ClosedRange<Float> = -1...1) -> [Float] {
        (0..<count).map { _ in Float.random(in: range, using: &self) }
    }
}

/// Straightforward double-precision definitions of each kernel, written from the math with
/// no shared code with the implementation.
enum NaiveReference {
    /// `x[rows, in] · w[out, in]ᵀ + bias`.
    static func linear(_ x: [Float], rows: Int, _ w: [Float], inFeatures: Int, outFeatures: Int, bias: [Float]?) -> [Double] {
        var result = [Double](repeating: 0, count: rows * outFeatures)
        for row in 0..<rows {
            for out in 0..<outFeatures {
                var sum = Double(bias?[out] ?? 0)
                for k in 0..<inFeatures { sum += Double(x[row * inFeatures + k]) * Double(w[out * inFeatures + k]) }
                result[row * outFeatures + out] = sum
            }
        }
        return result
    }

    /// `epilogue(x · wᵀ + bias)`, with `residual` as what `.residualAdd` adds to.
    static func linear(
        _ x: [Float], rows: Int, _ w: [Float], inFeatures: Int, outFeatures: Int, bias: [Float]?,
        epilogue: LinearEpilogue, residual: [Float]
    ) -> [Double] {
        linear(x, rows: rows, w, inFeatures: inFeatures, outFeatures: outFeatures, bias: bias).enumerated().map { index, value in
            switch epilogue {
            case .none: value
            case .gelu: gelu(value)
            case .residualAdd: value + Double(residual[index])
            }
        }
    }

    static func gelu(_ value: Double) -> Double { 0.5 * value * (1 + erf(value / 2.0.squareRoot())) }

    static func layerNorm(_ x: [Float], rows: Int, channels: Int, scale: [Float], shift: [Float], epsilon: Double) -> [Double] {
        var result = [Double](repeating: 0, count: x.count)
        for row in 0..<rows {
            let values = (0..<channels).map { Double(x[row * channels + $0]) }
            let mean = values.reduce(0, +) / Double(channels)
            let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(channels)
            for c in 0..<channels {
                result[row * channels + c] = (values[c] - mean) / (variance + epsilon).squareRoot() * Double(scale[c]) + Double(shift[c])
            }
        }
        return result
    }

    static func softmax(_ row: [Double]) -> [Double] {
        let largest = row.max() ?? 0
        let exponentials = row.map { exp($0 - largest) }
        let total = exponentials.reduce(0, +)
        return exponentials.map { $0 / total }
    }

    /// The largest |actual − expected|, and the largest |expected| to scale it by.
    static func maxError(_ actual: [Float], _ expected: [Double]) -> (error: Double, scale: Double) {
        precondition(actual.count == expected.count)
        var error = 0.0
        var scale = 0.0
        for index in actual.indices {
            error = max(error, abs(Double(actual[index]) - expected[index]))
            scale = max(scale, abs(expected[index]))
        }
        return (error, scale)
    }
}

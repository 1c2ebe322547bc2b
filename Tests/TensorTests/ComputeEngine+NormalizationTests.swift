import Testing
@testable import Tensor

@Suite struct NormalizationTests {
    let engine: ComputeEngine
    init() throws { engine = try ComputeEngine() }

    @Test func layerNormMatchesNaive() throws {
        var random = SeededGenerator(seed: 31)
        let (rows, channels) = (9, 64)
        // An offset and a spread per row, so mean and variance both matter.
        let input = (0..<rows * channels).map { Float($0 / channels) * 0.7 - 2 + Float.random(in: -3...3, using: &random) }
        let scale = random.floats(channels, in: 0.5...1.5)
        let shift = random.floats(channels)
        let weights = try LayerNormWeights(scale: scale, shift: shift)
        let output = try engine.layerNorm(Tensor(shape: [rows, channels], scalars: input), weights)
        let expected = NaiveReference.layerNorm(input, rows: rows, channels: channels, scale: scale, shift: shift, epsilon: 1e-5)
        let (error, errorScale) = NaiveReference.maxError(output.scalars, expected)
        #expect(error <= 1e-5 * errorScale, "max error \(error) at scale \(errorScale)")
    }

    @Test func layerNormInPlace() throws {
        var random = SeededGenerator(seed: 32)
        let input = random.floats(4 * 16)
        let weights = try LayerNormWeights(scale: random.floats(16), shift: random.floats(16))
        let outOfPlace = try engine.layerNorm(Tensor(shape: [4, 16], scalars: input), weights)
        var inPlace = input
        try inPlace.withUnsafeMutableBufferPointer { buffer in
            let view = TensorView.matrix(buffer.baseAddress!, rows: 4, columns: 16)
            try engine.layerNorm(view, weights, into: view)
        }
        #expect(inPlace == outOfPlace.scalars)
    }

    @Test func layerNormRejectsWrongChannelCount() throws {
        let weights = try LayerNormWeights(scale: [1, 1], shift: [0, 0])
        #expect(throws: TensorError.self) { try engine.layerNorm(Tensor(zeros: [2, 3]), weights) }
        #expect(throws: TensorError.self) { try LayerNormWeights(scale: [1, 1], shift: [0]) }
    }

    @Test func softmaxMatchesNaiveAndMasksExactly() throws {
        var random = SeededGenerator(seed: 33)
        var input = random.floats(6 * 10, in: -8...8)
        input[3] = -.infinity
        input[15] = -.infinity
        let output = try engine.softmax(Tensor(shape: [6, 10], scalars: input))
        #expect(output.scalars[3] == 0 && output.scalars[15] == 0)
        var expected: [Double] = []
        for row in 0..<6 { expected += NaiveReference.softmax(input[(row * 10)..<(row * 10 + 10)].map(Double.init)) }
        let (error, _) = NaiveReference.maxError(output.scalars, expected)
        #expect(error <= 1e-6)
    }

    @Test func l2NormalizationMatchesNaive() throws {
        var random = SeededGenerator(seed: 34)
        var input = random.floats(5 * 33, in: -4...4)
        for column in 0..<33 { input[2 * 33 + column] = 0 }
        let output = try engine.l2NormalizedRows(Tensor(shape: [5, 33], scalars: input))
        var expected = [Double](repeating: 0, count: input.count)
        for row in 0..<5 {
            let norm = (0..<33).reduce(0.0) { $0 + Double(input[row * 33 + $1]) * Double(input[row * 33 + $1]) }.squareRoot()
            for column in 0..<33 { expected[row * 33 + column] = norm == 0 ? 0 : Double(input[row * 33 + column]) / norm }
        }
        let (error, _) = NaiveReference.maxError(output.scalars, expected)
        #expect(error <= 1e-6)
        #expect(output.scalars[(2 * 33)..<(3 * 33)].allSatisfy { $0 == 0 })
    }
}

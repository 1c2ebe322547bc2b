import Testing
@testable import Tensor

@Suite struct LinearTests {
    let engine: ComputeEngine
    init() throws { engine = try ComputeEngine() }

    @Test(arguments: [LinearEpilogue.none, .gelu, .residualAdd], [true, false])
    func matchesNaiveLinear(epilogue: LinearEpilogue, withBias: Bool) throws {
        var random = SeededGenerator(seed: 11)
        let (rows, inFeatures, outFeatures) = (37, 96, 80)
        let input = random.floats(rows * inFeatures)
        let weight = random.floats(outFeatures * inFeatures, in: -0.2...0.2)
        let bias = withBias ? random.floats(outFeatures) : nil
        let residual = random.floats(rows * outFeatures)
        let packed = try engine.packLinear(
            weight: weight, orientation: .outputMajor, inFeatures: inFeatures, outFeatures: outFeatures, bias: bias,
            typicalRows: 50)

        let output = try engine.linear(
            Tensor(shape: [rows, inFeatures], scalars: input), packed, epilogue: epilogue,
            residual: epilogue == .residualAdd ? Tensor(shape: [rows, outFeatures], scalars: residual) : nil)

        let expected = NaiveReference.linear(
            input, rows: rows, weight, inFeatures: inFeatures, outFeatures: outFeatures, bias: bias, epilogue: epilogue,
            residual: residual)
        #expect(output.shape == [rows, outFeatures])
        let (error, scale) = NaiveReference.maxError(output.scalars, expected)
        #expect(error <= 1e-5 * scale, "max error \(error) at scale \(scale)")
    }

    @Test func inputMajorWeightsAreTheTranspose() throws {
        var random = SeededGenerator(seed: 12)
        let (rows, inFeatures, outFeatures) = (5, 24, 40)
        let input = random.floats(rows * inFeatures)
        let outputMajor = random.floats(outFeatures * inFeatures)
        var inputMajor = [Float](repeating: 0, count: outputMajor.count)
        for out in 0..<outFeatures {
            for k in 0..<inFeatures { inputMajor[k * outFeatures + out] = outputMajor[out * inFeatures + k] }
        }
        let a = try engine.packLinear(
            weight: outputMajor, orientation: .outputMajor, inFeatures: inFeatures, outFeatures: outFeatures, typicalRows: rows)
        let b = try engine.packLinear(
            weight: inputMajor, orientation: .inputMajor, inFeatures: inFeatures, outFeatures: outFeatures, typicalRows: rows)
        let x = try Tensor(shape: [rows, inFeatures], scalars: input)
        #expect(try engine.linear(x, a) == engine.linear(x, b))
    }

    @Test func writesIntoAStridedBlockOfRows() throws {
        var random = SeededGenerator(seed: 13)
        let (rows, inFeatures, outFeatures) = (4, 16, 8)
        let input = random.floats(rows * inFeatures)
        let weight = random.floats(outFeatures * inFeatures)
        let packed = try engine.packLinear(
            weight: weight, orientation: .outputMajor, inFeatures: inFeatures, outFeatures: outFeatures, typicalRows: rows)
        // Rows 1…4 of a 5-row, 10-column buffer: the layout of patch tokens after a class token.
        var destination = [Float](repeating: 7, count: 5 * 10)
        var source = input
        try source.withUnsafeMutableBufferPointer { sourceBuffer in
            try destination.withUnsafeMutableBufferPointer { destinationBuffer in
                try engine.linear(
                    .matrix(sourceBuffer.baseAddress!, rows: rows, columns: inFeatures), packed,
                    into: .matrix(destinationBuffer.baseAddress! + 10, rows: rows, columns: outFeatures, rowStride: 10),
                    epilogue: .residualAdd)
            }
        }
        let expected = NaiveReference.linear(input, rows: rows, weight, inFeatures: inFeatures, outFeatures: outFeatures, bias: nil)
        for column in 0..<10 { #expect(destination[column] == 7) }
        for row in 0..<rows {
            for column in 0..<10 {
                let value = destination[(row + 1) * 10 + column]
                if column < outFeatures {
                    #expect(abs(Double(value) - (expected[row * outFeatures + column] + 7)) < 1e-4)
                } else {
                    #expect(value == 7)
                }
            }
        }
    }

    @Test func reusesPrimitivesAcrossCalls() throws {
        var random = SeededGenerator(seed: 14)
        let packed = try engine.packLinear(
            weight: random.floats(32 * 16), orientation: .outputMajor, inFeatures: 16, outFeatures: 32, typicalRows: 8)
        let x = try Tensor(shape: [8, 16], scalars: random.floats(8 * 16))
        _ = try engine.linear(x, packed, epilogue: .gelu)
        let prepared = engine.preparedKernels.count
        for _ in 0..<3 { _ = try engine.linear(x, packed, epilogue: .gelu) }
        #expect(engine.preparedKernels.count == prepared)
        _ = try engine.linear(try x.rows(0..<3), packed, epilogue: .gelu)
        #expect(engine.preparedKernels.count == prepared + 1)
    }

    @Test func rejectsMismatchedShapes() throws {
        let packed = try engine.packLinear(
            weight: [Float](repeating: 1, count: 12), orientation: .outputMajor, inFeatures: 4, outFeatures: 3, typicalRows: 2)
        #expect(throws: TensorError.self) { try engine.linear(Tensor(zeros: [2, 5]), packed) }
        #expect(throws: TensorError.self) {
            try engine.packLinear(weight: [1, 2, 3], orientation: .outputMajor, inFeatures: 2, outFeatures: 2, typicalRows: 1)
        }
        #expect(throws: TensorError.self) {
            try engine.packLinear(
                weight: [1, 2, 3, 4], orientation: .outputMajor, inFeatures: 2, outFeatures: 2, bias: [1], typicalRows: 1)
        }
        #expect(throws: TensorError.self) { try engine.linear(Tensor(zeros: [2, 4]), packed, epilogue: .residualAdd) }
    }
}

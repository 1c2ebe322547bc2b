import Testing
@testable import Tensor

/// bf16 weights: the product must be exactly that of the bf16-rounded operands, accumulated
/// in fp32, which is visibly different from the fp32 product.
@Suite(.enabled(if: ComputeEngine.multipliesBF16Natively, "this CPU has no native bf16 multiply"))
struct BF16LinearTests {
    let engine: ComputeEngine
    init() throws { engine = try ComputeEngine() }

    /// `value` rounded to the nearest bf16 (ties to even), as a Float.
    static func roundedToBF16(_ value: Float) -> Float {
        let bits = value.bitPattern
        let rounded = (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) & 0xFFFF_0000
        return Float(bitPattern: rounded)
    }

    @Test(arguments: [LinearEpilogue.none, .gelu, .residualAdd], [true, false])
    func equalsTheProductOfRoundedOperands(epilogue: LinearEpilogue, withBias: Bool) throws {
        var random = SeededGenerator(seed: 21)
        let (rows, inFeatures, outFeatures) = (37, 96, 80)
        let input = random.floats(rows * inFeatures)
        let weight = random.floats(outFeatures * inFeatures, in: -0.2...0.2)
        let bias = withBias ? random.floats(outFeatures) : nil
        let residual = random.floats(rows * outFeatures)
        let packed = try engine.packLinear(
            weight: weight, orientation: .outputMajor, inFeatures: inFeatures, outFeatures: outFeatures, bias: bias,
            typicalRows: 50, precision: .bf16)
        #expect(packed.precision == .bf16)

        let output = try engine.linear(
            Tensor(shape: [rows, inFeatures], scalars: input), packed, epilogue: epilogue,
            residual: epilogue == .residualAdd ? Tensor(shape: [rows, outFeatures], scalars: residual) : nil)

        func reference(_ x: [Float], _ w: [Float]) -> [Double] {
            NaiveReference.linear(
                x, rows: rows, w, inFeatures: inFeatures, outFeatures: outFeatures, bias: bias, epilogue: epilogue,
                residual: residual)
        }
        let rounded = reference(input.map(Self.roundedToBF16), weight.map(Self.roundedToBF16))
        let (error, scale) = NaiveReference.maxError(output.scalars, rounded)
        #expect(error <= 1e-5 * scale, "max error \(error) at scale \(scale) against the rounded operands")

        let (fp32Error, fp32Scale) = NaiveReference.maxError(output.scalars, reference(input, weight))
        #expect(fp32Error > 1e-4 * fp32Scale, "bf16 result \(fp32Error) from fp32: the operands were not rounded")
        #expect(fp32Error < 2e-2 * fp32Scale, "bf16 result \(fp32Error) from fp32 at scale \(fp32Scale)")
    }

    @Test func convertsAStridedInput() throws {
        var random = SeededGenerator(seed: 22)
        let (rows, inFeatures, outFeatures) = (3, 32, 24)
        // Every other row of a 6-row buffer, as a class-token row is picked out of a sequence.
        var buffer = random.floats(2 * rows * inFeatures)
        let weight = random.floats(outFeatures * inFeatures, in: -0.3...0.3)
        let packed = try engine.packLinear(
            weight: weight, orientation: .inputMajor, inFeatures: inFeatures, outFeatures: outFeatures, typicalRows: 1,
            precision: .bf16)
        var output = [Float](repeating: 0, count: rows * outFeatures)
        try buffer.withUnsafeMutableBufferPointer { source in
            try output.withUnsafeMutableBufferPointer { destination in
                try engine.linear(
                    .matrix(source.baseAddress!, rows: rows, columns: inFeatures, rowStride: 2 * inFeatures), packed,
                    into: .matrix(destination.baseAddress!, rows: rows, columns: outFeatures))
            }
        }
        let picked = (0..<rows).flatMap { row in buffer[(2 * row * inFeatures)..<((2 * row + 1) * inFeatures)] }
        var transposed = [Float](repeating: 0, count: weight.count)
        for k in 0..<inFeatures {
            for out in 0..<outFeatures { transposed[out * inFeatures + k] = weight[k * outFeatures + out] }
        }
        let expected = NaiveReference.linear(
            picked.map(Self.roundedToBF16), rows: rows, transposed.map(Self.roundedToBF16), inFeatures: inFeatures,
            outFeatures: outFeatures, bias: nil)
        let (error, scale) = NaiveReference.maxError(output, expected)
        #expect(error <= 1e-5 * scale, "max error \(error) at scale \(scale)")
    }

    @Test func runsOnANativeBF16Kernel() throws {
        var random = SeededGenerator(seed: 23)
        let packed = try engine.packLinear(
            weight: random.floats(64 * 64), orientation: .outputMajor, inFeatures: 64, outFeatures: 64, typicalRows: 16,
            precision: .bf16)
        _ = try engine.linear(Tensor(shape: [16, 64], scalars: random.floats(16 * 64)), packed)
        let kernels = engine.preparedKernels.filter { $0.hasPrefix("linear") }
        #expect(kernels.count == 1)
        #expect(kernels.allSatisfy { $0.contains("bf16") && ($0.contains("amx") || $0.contains("avx512_core_bf16")) }, "\(kernels)")
    }
}

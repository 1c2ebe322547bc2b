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

    /// A layer writing bf16 for the next (fc1 for fc2) gives the bytes its fp32 output rounds
    /// to, and the next layer reading them gives the bits it gives reading that fp32 output.
    @Test(arguments: [LinearEpilogue.none, .gelu])
    func writingBF16ForTheNextLayerChangesNoBit(epilogue: LinearEpilogue) throws {
        var random = SeededGenerator(seed: 23)
        let (rows, inFeatures, hiddenFeatures, outFeatures) = (226, 64, 256, 64)
        var input = random.floats(rows * inFeatures)
        let first = try engine.packLinear(
            weight: random.floats(hiddenFeatures * inFeatures, in: -0.2...0.2), orientation: .outputMajor,
            inFeatures: inFeatures, outFeatures: hiddenFeatures, bias: random.floats(hiddenFeatures), typicalRows: rows,
            precision: .bf16)
        let second = try engine.packLinear(
            weight: random.floats(outFeatures * hiddenFeatures, in: -0.2...0.2), orientation: .outputMajor,
            inFeatures: hiddenFeatures, outFeatures: outFeatures, bias: random.floats(outFeatures), typicalRows: rows,
            precision: .bf16)
        let residual = random.floats(rows * outFeatures)

        // The fp32 way: the hidden layer in fp32, converted by the next layer.
        var hidden = [Float](repeating: 0, count: rows * hiddenFeatures)
        var viaFP32 = residual
        // The bf16 way: the hidden layer written in bf16 and read as it is.
        var hiddenBF16 = [UInt16](repeating: 0, count: rows * hiddenFeatures)
        var viaBF16 = residual
        // Its input in bf16, as the LayerNorm writes it: the fp32 input rounded, as `linear`
        // rounds it when it converts.
        var inputBF16 = input.map { UInt16(Self.roundedToBF16($0).bitPattern >> 16) }
        try input.withUnsafeMutableBufferPointer { x in
            let inputView = TensorView.matrix(x.baseAddress!, rows: rows, columns: inFeatures)
            try hidden.withUnsafeMutableBufferPointer { h in
                let hiddenView = TensorView.matrix(h.baseAddress!, rows: rows, columns: hiddenFeatures)
                try engine.linear(inputView, first, into: hiddenView, epilogue: epilogue)
                try viaFP32.withUnsafeMutableBufferPointer { y in
                    try engine.linear(
                        hiddenView, second, into: .matrix(y.baseAddress!, rows: rows, columns: outFeatures), epilogue: .residualAdd)
                }
            }
            try hiddenBF16.withUnsafeMutableBytes { h in
                try inputBF16.withUnsafeMutableBytes { b in
                    try engine.linearsToBF16(bf16Input: b.baseAddress!, rows: rows, [(first, h.baseAddress!)], epilogue: epilogue)
                }
                try viaBF16.withUnsafeMutableBufferPointer { y in
                    try engine.linear(
                        bf16Input: h.baseAddress!, rows: rows, second,
                        into: .matrix(y.baseAddress!, rows: rows, columns: outFeatures), epilogue: .residualAdd)
                }
            }
        }
        #expect(hiddenBF16 == hidden.map { UInt16(Self.roundedToBF16($0).bitPattern >> 16) })
        #expect(viaBF16.map(\.bitPattern) == viaFP32.map(\.bitPattern))
        #expect(throws: TensorError.self) {
            try hiddenBF16.withUnsafeMutableBytes { h in
                try input.withUnsafeMutableBytes { x in
                    try engine.linearsToBF16(bf16Input: x.baseAddress!, rows: rows, [(first, h.baseAddress!)], epilogue: .residualAdd)
                }
            }
        }
    }

    /// Attention's q, k and v packed as three layers over one bf16 input (as the vision
    /// tower runs them in bf16) give the bytes of the one stacked layer's output columns.
    @Test func threeLayersGiveTheBytesOfTheStackedOne() throws {
        var random = SeededGenerator(seed: 24)
        let (rows, width) = (226, 64)
        let weight = random.floats(3 * width * width, in: -0.2...0.2)
        let bias = random.floats(3 * width)
        let stacked = try engine.packLinear(
            weight: weight, orientation: .outputMajor, inFeatures: width, outFeatures: 3 * width, bias: bias, typicalRows: rows,
            precision: .bf16)
        let parts = try (0..<3).map { part in
            try engine.packLinear(
                weight: Array(weight[part * width * width..<(part + 1) * width * width]), orientation: .outputMajor,
                inFeatures: width, outFeatures: width, bias: Array(bias[part * width..<(part + 1) * width]), typicalRows: rows,
                precision: .bf16)
        }
        var input = random.floats(rows * width).map { UInt16(Self.roundedToBF16($0).bitPattern >> 16) }
        var whole = [UInt16](repeating: 0, count: rows * 3 * width)
        var apart = [UInt16](repeating: 0, count: rows * 3 * width)
        try input.withUnsafeMutableBytes { x in
            try whole.withUnsafeMutableBytes { w in
                try engine.linearsToBF16(bf16Input: x.baseAddress!, rows: rows, [(stacked, w.baseAddress!)])
            }
            try apart.withUnsafeMutableBytes { a in
                let part = rows * width * 2
                try engine.linearsToBF16(
                    bf16Input: x.baseAddress!, rows: rows,
                    [(parts[0], a.baseAddress!), (parts[1], a.baseAddress! + part), (parts[2], a.baseAddress! + 2 * part)])
            }
        }
        // `whole` is [rows, 3·width]; `apart` is q, then k, then v, each [rows, width].
        var regrouped: [UInt16] = []
        for part in 0..<3 {
            for row in 0..<rows {
                let start = (row * 3 + part) * width
                regrouped += whole[start..<start + width]
            }
        }
        #expect(apart == regrouped)
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

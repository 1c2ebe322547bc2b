import Foundation
import Testing
@testable import Tensor

/// Attention's products in bf16, as the vision tower runs them in bf16 mode: q, k and v
/// heads read in place from a fused projection stored in bf16, `logits = fp32(q·kᵀ) · scale`,
/// the softmax written in bf16, and `p·v` with fp32 sums. Each result must be exactly that of
/// the bf16 operands (products exact, sums to fp32 rounding), and visibly not the fp32 one.
@Suite(.enabled(if: ComputeEngine.multipliesBF16Natively, "this CPU has no native bf16 multiply"))
struct BF16AttentionTests {
    let engine: ComputeEngine
    init() throws { engine = try ComputeEngine() }

    static let (length, heads, headWidth) = (50, 3, 24)
    static let width = heads * headWidth
    /// 1/√24 is not a power of two, so the scale's single multiplication is tested too.
    static let scale = Float(1 / Double(headWidth).squareRoot())

    /// The bits of `value` rounded to the nearest bf16 (ties to even).
    static func bf16Bits(_ value: Float) -> UInt16 { UInt16(BF16LinearTests.roundedToBF16(value).bitPattern >> 16) }
    static func float(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

    /// `Σ_c a[h, i, c]·b[h, c, j]` in double, for `[heads, rows, inner]` and
    /// `[heads, inner, columns]` operands given as element accessors.
    static func products(
        rows: Int, inner: Int, columns: Int, _ a: (Int, Int, Int) -> Float, _ b: (Int, Int, Int) -> Float
    ) -> [Double] {
        var result = [Double](repeating: 0, count: heads * rows * columns)
        for h in 0..<heads {
            for i in 0..<rows {
                for j in 0..<columns {
                    var sum = 0.0
                    for c in 0..<inner { sum += Double(a(h, i, c)) * Double(b(h, c, j)) }
                    result[(h * rows + i) * columns + j] = sum
                }
            }
        }
        return result
    }

    @Test func productsEqualTheProductsOfRoundedOperands() throws {
        let (length, heads, headWidth, width, scale) = (Self.length, Self.heads, Self.headWidth, Self.width, Self.scale)
        var random = SeededGenerator(seed: 31)
        // The fused projection q | k | v, [length, 3·width], in fp32 and stored in bf16.
        let projection = random.floats(length * 3 * width, in: -2...2)
        var stored = projection.map(Self.bf16Bits)
        let rounded = stored.map(Self.float)
        func element(_ values: [Float], _ part: Int, row: Int, head: Int, column: Int) -> Float {
            values[row * 3 * width + part * width + head * headWidth + column]
        }

        var logits = [Float](repeating: 0, count: heads * length * length)
        var probabilities = [UInt16](repeating: 0, count: heads * length * length)
        var fp32Probabilities = [Float](repeating: 0, count: heads * length * length)
        var output = [Float](repeating: 0, count: length * width)
        var outputBF16 = [UInt16](repeating: 0, count: length * width)
        var fp32Logits = [Float](repeating: 0, count: heads * length * length)
        var fp32Softmax = [Float](repeating: 0, count: heads * length * length)
        var fp32Output = [Float](repeating: 0, count: length * width)
        var fp32Projection = projection
        let headStrides = [headWidth, 3 * width, 1]
        let outputStrides = [headWidth, width, 1]
        let square = [heads, length, length]
        let headShape = [heads, length, headWidth]
        try stored.withUnsafeMutableBytes { s in
            let queries = BF16View(s.baseAddress!, shape: headShape, strides: headStrides)
            let keys = BF16View(s.baseAddress! + 2 * width, shape: headShape, strides: headStrides)
            let values = BF16View(s.baseAddress! + 4 * width, shape: headShape, strides: headStrides)
            try logits.withUnsafeMutableBufferPointer { l in
                let logitsView = TensorView(l.baseAddress!, shape: square)
                try engine.matmul(queries, keys.transposed, into: logitsView, scale: scale)
                try probabilities.withUnsafeMutableBytes { p in
                    let probabilityView = BF16View(p.baseAddress!, shape: square)
                    try fp32Probabilities.withUnsafeMutableBufferPointer { p in
                        try engine.softmax(logitsView, into: TensorView(p.baseAddress!, shape: square))
                    }
                    var scratch = Array(l)
                    try scratch.withUnsafeMutableBufferPointer { s in
                        try engine.softmax(overwriting: TensorView(s.baseAddress!, shape: square), intoBF16: probabilityView)
                    }
                    try output.withUnsafeMutableBufferPointer { o in
                        try engine.matmul(
                            probabilityView, values, into: TensorView(o.baseAddress!, shape: headShape, strides: outputStrides))
                    }
                    try outputBF16.withUnsafeMutableBytes { o in
                        try engine.matmul(probabilityView, values, intoBF16: BF16View(o.baseAddress!, shape: headShape, strides: outputStrides))
                    }
                }
            }
        }
        // The same products in fp32 on the unrounded operands.
        try fp32Projection.withUnsafeMutableBufferPointer { f in
            let views = (0..<3).map { TensorView(f.baseAddress! + $0 * width, shape: headShape, strides: headStrides) }
            try fp32Logits.withUnsafeMutableBufferPointer { l in
                let logitsView = TensorView(l.baseAddress!, shape: square)
                try engine.matmul(views[0], views[1].transposed, into: logitsView, scale: scale)
                try fp32Softmax.withUnsafeMutableBufferPointer { p in
                    let probabilityView = TensorView(p.baseAddress!, shape: square)
                    try engine.softmax(logitsView, into: probabilityView)
                    try fp32Output.withUnsafeMutableBufferPointer { o in
                        try engine.matmul(
                            probabilityView, views[2], into: TensorView(o.baseAddress!, shape: headShape, strides: outputStrides))
                    }
                }
            }
        }

        // logits = fp32(Σ q·k) · scale, against the exact sums of the rounded operands.
        let expectedLogits = Self.products(
            rows: length, inner: headWidth, columns: length,
            { h, i, c in element(rounded, 0, row: i, head: h, column: c) },
            { h, c, j in element(rounded, 1, row: j, head: h, column: c) }
        ).map { $0 * Double(scale) }
        let (logitError, logitScale) = NaiveReference.maxError(logits, expectedLogits)
        #expect(logitError <= 1e-5 * logitScale, "logits: \(logitError) at scale \(logitScale)")
        let (fp32LogitGap, _) = NaiveReference.maxError(fp32Logits, expectedLogits)
        #expect(fp32LogitGap > 1e-4 * logitScale, "logits \(fp32LogitGap) from fp32: the operands were not rounded")

        // The probabilities: oneDNN's fp32 softmax, each rounded to bf16, but where an exp's
        // last fp32 unit decides the rounding (`BF16SoftmaxTests`).
        let mismatches = zip(probabilities, fp32Probabilities.map(Self.bf16Bits)).filter { $0 != $1 }
        #expect(mismatches.allSatisfy { abs(Int($0) - Int($1)) == 1 }, "\(mismatches.prefix(5))")
        #expect(mismatches.count * 1000 <= probabilities.count, "\(mismatches.count) of \(probabilities.count) off by one")

        // p·v with fp32 sums, against the exact sums of the bf16 probabilities and values.
        let expectedOutput = Self.products(
            rows: length, inner: length, columns: headWidth,
            { h, i, j in Self.float(probabilities[(h * length + i) * length + j]) },
            { h, j, c in element(rounded, 2, row: j, head: h, column: c) })
        // `output` is [length, width] with head h in columns h·headWidth..<(h+1)·headWidth.
        let headMajor = (0..<heads).flatMap { h in
            (0..<length).flatMap { i in (0..<headWidth).map { c in output[i * width + h * headWidth + c] } }
        }
        let (outputError, outputScale) = NaiveReference.maxError(headMajor, expectedOutput)
        #expect(outputError <= 1e-5 * outputScale, "p·v: \(outputError) at scale \(outputScale)")
        // Written in bf16: the fp32 result rounded once.
        #expect(outputBF16 == output.map(Self.bf16Bits))
        let (fp32Gap, _) = NaiveReference.maxError(fp32Output, output.map(Double.init))
        #expect(fp32Gap > 1e-4 * outputScale, "p·v \(fp32Gap) from fp32: the operands were not rounded")
        #expect(fp32Gap < 2e-2 * outputScale, "p·v \(fp32Gap) from fp32 at scale \(outputScale)")

        let kernels = engine.preparedKernels.filter { $0.contains("bf16") && !$0.hasPrefix("linear") }
        #expect(kernels.count == 3, "\(kernels)")
        #expect(kernels.allSatisfy { !$0.contains("ref") }, "\(kernels)")
    }
}

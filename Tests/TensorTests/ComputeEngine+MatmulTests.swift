import Testing
@testable import Tensor

@Suite struct MatmulTests {
    let engine: ComputeEngine
    init() throws { engine = try ComputeEngine() }

    @Test func plainAndTransposedMatrices() throws {
        var random = SeededGenerator(seed: 21)
        let a = try Tensor(shape: [7, 5], scalars: random.floats(35))
        let b = try Tensor(shape: [5, 9], scalars: random.floats(45))
        let bTransposed = try Tensor(shape: [9, 5], scalars: (0..<45).map { b.scalars[($0 % 5) * 9 + $0 / 5] })
        let product = try engine.matmul(a, b, scale: 0.5)
        let viaTranspose = try engine.matmul(a, bTransposed, transposingB: true, scale: 0.5)
        #expect(product.shape == [7, 9])
        for row in 0..<7 {
            for column in 0..<9 {
                let expected = 0.5 * (0..<5).reduce(0.0) { $0 + Double(a.scalars[row * 5 + $1]) * Double(b.scalars[$1 * 9 + column]) }
                #expect(abs(Double(product.scalars[row * 9 + column]) - expected) < 1e-5)
                #expect(abs(Double(viaTranspose.scalars[row * 9 + column]) - expected) < 1e-5)
            }
        }
    }

    /// Attention over a fused q|k|v projection output, read in place through strided views:
    /// scores = scale·q·kᵀ + causal mask (broadcast over heads), softmax, then P·v written
    /// head by head into the columns of a [tokens, heads·dim] matrix.
    @Test(arguments: [false, true])
    func stridedAttentionMatchesNaive(causal: Bool) throws {
        var random = SeededGenerator(seed: causal ? 22 : 23)
        let (tokens, heads, dim) = (11, 3, 8)
        let width = heads * dim
        var qkv = random.floats(tokens * 3 * width)
        var scores = [Float](repeating: 0, count: heads * tokens * tokens)
        var output = [Float](repeating: 0, count: tokens * width)
        var mask = [Float](repeating: 0, count: tokens * tokens)
        for row in 0..<tokens { for column in (row + 1)..<max(row + 1, tokens) { mask[row * tokens + column] = -.infinity } }
        let scale: Float = 0.35

        try qkv.withUnsafeMutableBufferPointer { qkvBuffer in
            try scores.withUnsafeMutableBufferPointer { scoresBuffer in
                try output.withUnsafeMutableBufferPointer { outputBuffer in
                    try mask.withUnsafeMutableBufferPointer { maskBuffer in
                        let base = qkvBuffer.baseAddress!
                        let headStrides = [dim, 3 * width, 1]
                        let q = TensorView(base, shape: [heads, tokens, dim], strides: headStrides)
                        let k = TensorView(base + width, shape: [heads, tokens, dim], strides: headStrides)
                        let v = TensorView(base + 2 * width, shape: [heads, tokens, dim], strides: headStrides)
                        let scoreView = TensorView(scoresBuffer.baseAddress!, shape: [heads, tokens, tokens])
                        let maskView = TensorView(maskBuffer.baseAddress!, shape: [1, tokens, tokens])
                        try engine.matmul(q, k.transposed, into: scoreView, scale: scale, addend: causal ? maskView : nil)
                        try engine.softmax(scoreView, into: scoreView)
                        let outputView = TensorView(outputBuffer.baseAddress!, shape: [heads, tokens, dim], strides: [dim, width, 1])
                        try engine.matmul(scoreView, v, into: outputView)
                    }
                }
            }
        }

        var expected = [Double](repeating: 0, count: tokens * width)
        for head in 0..<heads {
            for query in 0..<tokens {
                var logits = [Double](repeating: 0, count: tokens)
                for key in 0..<tokens {
                    var dot = 0.0
                    for d in 0..<dim {
                        dot += Double(qkv[query * 3 * width + head * dim + d]) * Double(qkv[key * 3 * width + width + head * dim + d])
                    }
                    logits[key] = causal && key > query ? -.infinity : Double(scale) * dot
                }
                let probabilities = NaiveReference.softmax(logits)
                if causal {
                    for key in (query + 1)..<max(query + 1, tokens) { #expect(scores[(head * tokens + query) * tokens + key] == 0) }
                }
                for d in 0..<dim {
                    expected[query * width + head * dim + d] = (0..<tokens).reduce(0.0) {
                        $0 + probabilities[$1] * Double(qkv[$1 * 3 * width + 2 * width + head * dim + d])
                    }
                }
            }
        }
        let (error, errorScale) = NaiveReference.maxError(output, expected)
        #expect(error <= 1e-5 * errorScale, "max error \(error) at scale \(errorScale)")
    }

    @Test func rejectsMismatchedShapes() throws {
        let a = Tensor(zeros: [3, 4])
        #expect(throws: TensorError.self) { try engine.matmul(a, Tensor(zeros: [5, 2])) }
        #expect(throws: TensorError.self) { try engine.matmul(Tensor(zeros: [2, 3, 4]), Tensor(zeros: [3, 4, 2])) }
        #expect(throws: TensorError.self) { try engine.matmul(a, Tensor(zeros: [4])) }
    }
}

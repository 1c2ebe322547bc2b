import Tensor

/// Scratch buffers for running residual blocks over `sequences` sequences of `length`
/// tokens, allocated once and reused by every block of every forward pass.
final class BlockWorkspace: Sendable {
    let rows: Int
    let length: Int
    /// LayerNorm output, `[rows, width]`.
    let normed: AlignedFloats
    /// Fused q | k | v projection, `[rows, 3·width]`.
    let queryKeyValue: AlignedFloats
    /// Attention logits then probabilities of one sequence, `[heads, length, length]`.
    let scores: AlignedFloats
    /// Concatenated head outputs, `[rows, width]`.
    let attention: AlignedFloats
    /// MLP hidden activations, `[rows, mlpWidth]`.
    let hidden: AlignedFloats

    init(sequences: Int, length: Int, width: Int, heads: Int, mlpWidth: Int) {
        rows = sequences * length
        self.length = length
        normed = AlignedFloats(count: rows * width)
        queryKeyValue = AlignedFloats(count: rows * 3 * width)
        scores = AlignedFloats(count: heads * length * length)
        attention = AlignedFloats(count: rows * width)
        hidden = AlignedFloats(count: rows * mlpWidth)
    }
}

extension TransformerBlockWeights {
    /// Applies the block in place to the residual stream `tokens`, `[rows, width]`: the
    /// workspace's `rows / length` independent sequences of `length` tokens, one after another.
    ///
    /// With `causal` (the text tower) a position attends only to itself and the positions
    /// before it; the vision tower attends to every token.
    func apply(
        to tokens: UnsafeMutablePointer<Float>, causal: Bool, workspace: BlockWorkspace, engine: ComputeEngine
    ) throws(TensorError) {
        let rows = workspace.rows
        let stream = TensorView.matrix(tokens, rows: rows, columns: width)
        let normed = workspace.normed.matrix(rows: rows, columns: width)

        try engine.layerNorm(stream, attentionNorm, into: normed)
        try engine.linear(normed, queryKeyValue, into: workspace.queryKeyValue.matrix(rows: rows, columns: 3 * width))
        if causal {
            // PyTorch computes the scale in double precision and rounds it once.
            engine.causalSelfAttention(
                projection: workspace.queryKeyValue.base, output: workspace.attention.base,
                sequences: rows / workspace.length, length: workspace.length, heads: heads, headWidth: width / heads,
                scale: Float(1 / Double(width / heads).squareRoot()))
        } else {
            try attend(workspace: workspace, engine: engine)
        }
        try engine.linear(
            workspace.attention.matrix(rows: rows, columns: width), attentionOutput, into: stream, epilogue: .residualAdd)

        try engine.layerNorm(stream, mlpNorm, into: normed)
        let hidden = workspace.hidden.matrix(rows: rows, columns: mlpWidth)
        try engine.linear(normed, mlpExpand, into: hidden, epilogue: .gelu)
        try engine.linear(hidden, mlpContract, into: stream, epilogue: .residualAdd)
    }

    /// Multi-head attention, `softmax(q·kᵀ/√d)·v` per head and sequence, on oneDNN. q, k and v are
    /// read in place from the fused projection (head h of q is columns h·d..<(h+1)·d of the
    /// first third), and each head's result lands in its columns of `attention`.
    private func attend(workspace: BlockWorkspace, engine: ComputeEngine) throws(TensorError) {
        let length = workspace.length
        let headWidth = width / heads
        let fusedWidth = 3 * width
        // PyTorch computes the scale in double precision and rounds it once.
        let scale = Float(1 / Double(headWidth).squareRoot())
        let scores = TensorView(workspace.scores.base, shape: [heads, length, length])

        for sequence in 0..<(workspace.rows / length) {
            let projection = workspace.queryKeyValue.base + sequence * length * fusedWidth
            let headStrides = [headWidth, fusedWidth, 1]
            let queries = TensorView(projection, shape: [heads, length, headWidth], strides: headStrides)
            let keys = TensorView(projection + width, shape: [heads, length, headWidth], strides: headStrides)
            let values = TensorView(projection + 2 * width, shape: [heads, length, headWidth], strides: headStrides)
            let output = TensorView(
                workspace.attention.base + sequence * length * width, shape: [heads, length, headWidth],
                strides: [headWidth, width, 1])

            try engine.matmul(queries, keys.transposed, into: scores, scale: scale)
            try engine.softmax(scores, into: scores)
            try engine.matmul(scores, values, into: output)
        }
    }
}

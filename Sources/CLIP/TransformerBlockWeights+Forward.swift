import Tensor

/// Which tokens each token attends to.
enum AttentionPattern {
    /// Independent sequences of `length` rows each, one after another; every token attends
    /// to every token of its sequence (the vision tower).
    case full(length: Int)
    /// Rows of a prefix tree of sequences under a causal mask (the text tower): a row
    /// attends to itself and the rows of its path from the first token (see
    /// `ComputeEngine.prefixTreeSelfAttention`).
    case prefixTree(parents: [Int])
}

/// Scratch buffers for running residual blocks over up to `capacity` tokens, allocated once
/// and reused by every block of every forward pass.
final class BlockWorkspace: Sendable {
    /// The most rows a block can run over with these buffers.
    let capacity: Int
    /// LayerNorm output, `[rows, width]`.
    let normed: AlignedFloats
    /// Fused q | k | v projection, `[rows, 3·width]`.
    let queryKeyValue: AlignedFloats
    /// Attention logits then probabilities of one full-attention sequence,
    /// `[heads, length, length]` (empty for a prefix tree, whose kernel needs none).
    let scores: AlignedFloats
    /// Concatenated head outputs, `[rows, width]`.
    let attention: AlignedFloats
    /// MLP hidden activations, `[rows, mlpWidth]`.
    let hidden: AlignedFloats

    /// Buffers for up to `rows` tokens; `scoreLength` is the length of a full-attention
    /// sequence, or 0 for a prefix tree.
    init(rows: Int, scoreLength: Int, width: Int, heads: Int, mlpWidth: Int) {
        capacity = rows
        normed = AlignedFloats(count: rows * width)
        queryKeyValue = AlignedFloats(count: rows * 3 * width)
        scores = AlignedFloats(count: heads * scoreLength * scoreLength)
        attention = AlignedFloats(count: rows * width)
        hidden = AlignedFloats(count: rows * mlpWidth)
    }
}

extension TransformerBlockWeights {
    /// Applies the block in place to the residual stream `tokens`, `[rows, width]`, whose
    /// tokens attend to each other as `pattern` says. `rows` is at most the workspace's
    /// capacity; with `.full(length:)` it is a whole number of sequences.
    func apply(
        to tokens: UnsafeMutablePointer<Float>, rows: Int, pattern: AttentionPattern, workspace: BlockWorkspace,
        engine: ComputeEngine
    ) throws(TensorError) {
        precondition(rows <= workspace.capacity, "more rows than the block workspace holds")
        let stream = TensorView.matrix(tokens, rows: rows, columns: width)
        let normed = workspace.normed.matrix(rows: rows, columns: width)

        try engine.layerNorm(stream, attentionNorm, into: normed)
        try engine.linear(normed, queryKeyValue, into: workspace.queryKeyValue.matrix(rows: rows, columns: 3 * width))
        switch pattern {
        case let .full(length):
            try attend(sequences: rows / length, length: length, workspace: workspace, engine: engine)
        case let .prefixTree(parents):
            // PyTorch computes the scale in double precision and rounds it once.
            engine.prefixTreeSelfAttention(
                projection: workspace.queryKeyValue.base, output: workspace.attention.base, parents: parents,
                heads: heads, headWidth: width / heads, scale: Float(1 / Double(width / heads).squareRoot()))
        }
        try engine.linear(
            workspace.attention.matrix(rows: rows, columns: width), attentionOutput, into: stream, epilogue: .residualAdd)

        try engine.layerNorm(stream, mlpNorm, into: normed)
        if mlpExpand.precision == .bf16, mlpContract.precision == .bf16 {
            // fc2 reads fc1's output in bf16: fc1 writes it so (half of `hidden`), rounded as
            // converting its fp32 output would round it, and fc2 skips the conversion.
            try engine.linearToBF16(normed, mlpExpand, intoBF16: UnsafeMutableRawPointer(workspace.hidden.base), epilogue: .gelu)
            try engine.linear(bf16Input: UnsafeMutableRawPointer(workspace.hidden.base), rows: rows, mlpContract, into: stream, epilogue: .residualAdd)
        } else {
            let hidden = workspace.hidden.matrix(rows: rows, columns: mlpWidth)
            try engine.linear(normed, mlpExpand, into: hidden, epilogue: .gelu)
            try engine.linear(hidden, mlpContract, into: stream, epilogue: .residualAdd)
        }
    }

    /// Multi-head attention, `softmax(q·kᵀ/√d)·v` per head and sequence, on oneDNN. q, k and v are
    /// read in place from the fused projection (head h of q is columns h·d..<(h+1)·d of the
    /// first third), and each head's result lands in its columns of `attention`. Each
    /// sequence runs through the same primitives whatever the number of sequences, so a
    /// sequence's result does not depend on the others.
    private func attend(sequences: Int, length: Int, workspace: BlockWorkspace, engine: ComputeEngine) throws(TensorError) {
        let headWidth = width / heads
        let fusedWidth = 3 * width
        // PyTorch computes the scale in double precision and rounds it once.
        let scale = Float(1 / Double(headWidth).squareRoot())
        let scores = TensorView(workspace.scores.base, shape: [heads, length, length])

        for sequence in 0..<sequences {
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

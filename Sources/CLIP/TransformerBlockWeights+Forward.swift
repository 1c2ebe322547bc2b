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
    /// Fused q | k | v projection, `[rows, 3·width]`; in bf16 attention, q, k and v as three
    /// dense bf16 `[rows, width]` matrices one after another in its first half.
    let queryKeyValue: AlignedFloats
    /// Attention logits then probabilities of one full-attention sequence,
    /// `[heads, length, length]` (empty for a prefix tree, whose kernel needs none).
    let scores: AlignedFloats
    /// The same probabilities rounded to bf16, when attention runs in bf16 (else empty).
    let probabilities: AlignedFloats
    /// Concatenated head outputs, `[rows, width]`.
    let attention: AlignedFloats
    /// MLP hidden activations, `[rows, mlpWidth]`.
    let hidden: AlignedFloats

    /// Buffers for up to `rows` tokens; `scoreLength` is the length of a full-attention
    /// sequence, or 0 for a prefix tree; `attentionInBF16` whether attention runs in bf16.
    init(rows: Int, scoreLength: Int, width: Int, heads: Int, mlpWidth: Int, attentionInBF16: Bool = false) {
        capacity = rows
        normed = AlignedFloats(count: rows * width)
        queryKeyValue = AlignedFloats(count: rows * 3 * width)
        scores = AlignedFloats(count: heads * scoreLength * scoreLength)
        probabilities = AlignedFloats(count: attentionInBF16 ? (heads * scoreLength * scoreLength + 1) / 2 : 0)
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
        // In bf16 the LayerNorms write bf16 (half of `normed`) for the layers that read them.
        let normedBF16 = UnsafeMutableRawPointer(workspace.normed.base)

        switch (pattern, queryKeyValue) {
        case let (.full(length), .separate(query, key, value)) where attendsInBF16:
            // Attention in bf16 (see `attendInBF16`): q, k and v are written in bf16, each a
            // dense [rows, width] matrix (together half of `queryKeyValue`), attention writes
            // its output in bf16 (half of `attention`), and out_proj reads it as it is.
            let projections = UnsafeMutableRawPointer(workspace.queryKeyValue.base)
            let part = rows * width * WeightPrecision.bf16.scalarBytes
            try engine.layerNorm(stream, attentionNorm, intoBF16: normedBF16)
            try engine.linearsToBF16(
                bf16Input: normedBF16, rows: rows, [(query, projections), (key, projections + part), (value, projections + 2 * part)])
            try attendInBF16(sequences: rows / length, length: length, workspace: workspace, engine: engine)
            try engine.linear(
                bf16Input: UnsafeMutableRawPointer(workspace.attention.base), rows: rows, attentionOutput, into: stream,
                epilogue: .residualAdd)
        case let (.full(length), .fused(projection)):
            try engine.layerNorm(stream, attentionNorm, into: normed)
            try engine.linear(normed, projection, into: workspace.queryKeyValue.matrix(rows: rows, columns: 3 * width))
            try attend(sequences: rows / length, length: length, workspace: workspace, engine: engine)
            try engine.linear(
                workspace.attention.matrix(rows: rows, columns: width), attentionOutput, into: stream, epilogue: .residualAdd)
        case let (.prefixTree(parents), .fused(projection)):
            // The text tower's attention stays fp32 in either precision (its kernel is not
            // oneDNN's; see `ComputeEngine.prefixTreeSelfAttention`).
            try engine.layerNorm(stream, attentionNorm, into: normed)
            try engine.linear(normed, projection, into: workspace.queryKeyValue.matrix(rows: rows, columns: 3 * width))
            // PyTorch computes the scale in double precision and rounds it once.
            engine.prefixTreeSelfAttention(
                projection: workspace.queryKeyValue.base, output: workspace.attention.base, parents: parents,
                heads: heads, headWidth: width / heads, scale: Float(1 / Double(width / heads).squareRoot()))
            try engine.linear(
                workspace.attention.matrix(rows: rows, columns: width), attentionOutput, into: stream, epilogue: .residualAdd)
        case (_, .separate):
            // Only a vision tower loaded in bf16 packs q, k and v apart (`VisionWeights`).
            throw TensorError.shapeMismatch(
                operation: "attention", detail: "q, k and v packed as separate layers need full attention in bf16")
        }

        if mlpExpand.precision == .bf16, mlpContract.precision == .bf16 {
            // fc1 reads the LayerNorm in bf16, written so; fc2 reads fc1's output in bf16: fc1
            // writes it so (half of `hidden`), rounded as converting its fp32 output would
            // round it, and fc2 skips the conversion.
            let hidden = UnsafeMutableRawPointer(workspace.hidden.base)
            try engine.layerNorm(stream, mlpNorm, intoBF16: normedBF16)
            try engine.linearsToBF16(bf16Input: normedBF16, rows: rows, [(mlpExpand, hidden)], epilogue: .gelu)
            try engine.linear(bf16Input: hidden, rows: rows, mlpContract, into: stream, epilogue: .residualAdd)
        } else {
            try engine.layerNorm(stream, mlpNorm, into: normed)
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

    /// ``attend(sequences:length:workspace:engine:)`` in bf16, reading q, k and v as three
    /// dense bf16 `[rows, width]` matrices one after another at the start of
    /// `workspace.queryKeyValue`, and writing the head outputs as dense bf16 `[rows, width]`
    /// at the start of `workspace.attention`. Per head and sequence, with q, k, v the
    /// projections' outputs rounded to bf16 (to nearest even) and d the head width:
    ///
    /// - logits = fp32(Σ q·k) · (1/√d): the products of bf16 values are exact in fp32, their
    ///   sums are fp32, and the scale (rounded once from double) multiplies each sum once;
    /// - p = softmax(logits) in fp32, each probability then rounded to bf16;
    /// - output = fp32(Σ p·v), rounded to bf16 for out_proj, which would round it so anyway.
    ///
    /// The projections and p·v round as they store their results, and the softmax writes its
    /// probabilities in bf16 itself (`ComputeEngine.softmax(overwriting:intoBF16:)`), so no
    /// pass only converts. p·v sees v, the probabilities and its output as 4-D
    /// `[1, heads, …]` views, the form in which oneDNN runs it on brgemm (`gemm:jit` for the
    /// 3-D ones, slower); q·kᵀ stays 3-D, where `gemm:jit` is the faster of the two at
    /// d = 64. Each sequence runs through the same kernels whatever the number of sequences,
    /// so a sequence's result does not depend on the others.
    private func attendInBF16(sequences: Int, length: Int, workspace: BlockWorkspace, engine: ComputeEngine) throws(TensorError) {
        let headWidth = width / heads
        let bytes = WeightPrecision.bf16.scalarBytes
        // q, k and v each span every sequence's rows.
        let part = sequences * length * width * bytes
        // PyTorch computes the scale in double precision and rounds it once.
        let scale = Float(1 / Double(headWidth).squareRoot())
        let logits = TensorView(workspace.scores.base, shape: [heads, length, length])
        let probabilities = BF16View(UnsafeMutableRawPointer(workspace.probabilities.base), shape: [1, heads, length, length])
        let headStrides = [headWidth, width, 1]
        let batchedHeadStrides = [length * width, headWidth, width, 1]

        for sequence in 0..<sequences {
            let queries = UnsafeMutableRawPointer(workspace.queryKeyValue.base) + sequence * length * width * bytes
            let keys = BF16View(queries + part, shape: [heads, length, headWidth], strides: headStrides)
            let values = BF16View(queries + 2 * part, shape: [1, heads, length, headWidth], strides: batchedHeadStrides)
            let output = BF16View(
                UnsafeMutableRawPointer(workspace.attention.base) + sequence * length * width * bytes,
                shape: [1, heads, length, headWidth], strides: batchedHeadStrides)

            try engine.matmul(
                BF16View(queries, shape: [heads, length, headWidth], strides: headStrides), keys.transposed, into: logits, scale: scale)
            try engine.softmax(overwriting: logits, intoBF16: BF16View(probabilities.base, shape: [heads, length, length]))
            try engine.matmul(probabilities, values, intoBF16: output)
        }
    }
}

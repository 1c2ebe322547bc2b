import Tensor

/// The CLIP text transformer (reference §1, text forward) on rows of token ids.
///
/// The causal mask means a position never sees the ones after it, so the output at the
/// end-of-text token depends only on the positions up to it. Each pass therefore encodes
/// only the first `max(end-of-text position) + 1` positions of its prompts: the same result
/// as encoding all 77, several times cheaper.
public final class TextTower: Sendable {
    /// Prompts encoded together in one pass: enough rows to keep the matmuls efficient,
    /// few enough that the workspace stays small.
    static let promptsPerPass = 16

    /// The architecture.
    public let config: TextConfig
    /// Width of the text embedding.
    public var embedDim: Int { weights.embedDim }
    /// The engine the tower's kernels run on.
    public let engine: ComputeEngine

    private let weights: TextWeights

    /// A tower over loaded weights.
    public init(weights: TextWeights, engine: ComputeEngine) {
        self.config = weights.config
        self.weights = weights
        self.engine = engine
    }

    /// Encodes each row of `contextLength` token ids (as the tokenizer produces them:
    /// start-of-text, tokens, end-of-text, zero padding) into its unnormalised text
    /// embedding, taken at the row's largest id (the end-of-text token, 49407).
    ///
    /// - Returns: `[rows, embedDim]`.
    public func encode<ID: BinaryInteger>(_ tokenRows: [[ID]]) throws(CLIPError) -> Tensor {
        var ids: [[Int]] = []
        var endPositions: [Int] = []
        for (index, row) in tokenRows.enumerated() {
            guard row.count == config.contextLength else {
                throw .tokens(row: index, reason: "has \(row.count) ids, the text tower takes exactly \(config.contextLength)")
            }
            var converted: [Int] = []
            converted.reserveCapacity(row.count)
            for id in row {
                guard id >= 0, id < config.vocabSize else {
                    throw .tokens(row: index, reason: "holds id \(id), outside 0..<\(config.vocabSize)")
                }
                converted.append(Int(id))
            }
            ids.append(converted)
            // The reference pools at argmax (its first occurrence): the end-of-text token.
            let largest = converted.max() ?? 0
            endPositions.append(converted.firstIndex(of: largest) ?? 0)
        }

        var embeddings: [Float] = []
        embeddings.reserveCapacity(ids.count * embedDim)
        var start = 0
        while start < ids.count {
            let end = min(start + Self.promptsPerPass, ids.count)
            let chunk = try kernel { () throws(TensorError) in
                try encodePass(ids: Array(ids[start..<end]), endPositions: Array(endPositions[start..<end]))
            }
            embeddings += chunk
            start = end
        }
        return try kernel { () throws(TensorError) in try Tensor(shape: [ids.count, embedDim], scalars: embeddings) }
    }

    /// One pass over up to `promptsPerPass` prompts, all cut to the longest end position.
    private func encodePass(ids: [[Int]], endPositions: [Int]) throws(TensorError) -> [Float] {
        let width = config.width
        let prompts = ids.count
        let length = (endPositions.max() ?? 0) + 1
        let workspace = BlockWorkspace(
            sequences: prompts, length: length, width: width, heads: config.heads, mlpWidth: config.mlpWidth)

        // token_embedding[ids]: a gather, which oneDNN has no primitive for.
        let tokens = AlignedFloats(count: prompts * length * width)
        for (prompt, row) in ids.enumerated() {
            for position in 0..<length {
                (tokens.base + (prompt * length + position) * width)
                    .update(from: weights.tokenEmbedding.base + row[position] * width, count: width)
            }
        }
        let stream = TensorView(tokens.base, shape: [prompts, length, width])
        let positions = TensorView(weights.positionalEmbedding.base, shape: [1, length, width])
        try engine.add(stream, positions, into: stream)

        for block in weights.blocks {
            try block.apply(to: tokens.base, causal: true, workspace: workspace, engine: engine)
        }

        // ln_final and the projection only at each prompt's end-of-text row.
        let pooled = AlignedFloats(count: prompts * width)
        for (prompt, position) in endPositions.enumerated() {
            (pooled.base + prompt * width).update(from: tokens.base + (prompt * length + position) * width, count: width)
        }
        let pooledView = pooled.matrix(rows: prompts, columns: width)
        try engine.layerNorm(pooledView, weights.finalNorm, into: pooledView)
        let embedded = AlignedFloats(count: prompts * embedDim)
        try engine.linear(pooledView, weights.projection, into: embedded.matrix(rows: prompts, columns: embedDim))
        return Array(UnsafeBufferPointer(start: embedded.base, count: prompts * embedDim))
    }
}

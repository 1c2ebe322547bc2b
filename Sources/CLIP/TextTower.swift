import Tensor

/// The CLIP text transformer (docs/MODEL.md §1, text forward) on rows of token ids.
///
/// The causal mask means a token's state depends only on the tokens up to it. Two
/// consequences make encoding exact and cheap: the output at the end-of-text token needs
/// only the positions up to it, so nothing after it is encoded; and prompts that start with
/// the same tokens share those tokens' states, so each distinct prefix is encoded once.
/// InCTRL's 242 prompts of a class name (about 3,000 tokens) hold about 1,100 distinct
/// prefixes: the tower runs on a prefix tree of the prompts rather than on each prompt.
public final class TextTower: Sendable {
    /// The default for `rowsPerPass`: enough rows for the ~1,100–1,500 distinct prefixes of a
    /// class name's 242 prompts to share one pass, few enough that the workspace stays small
    /// (about 50 MB at width 640).
    public static let defaultRowsPerPass = 2048

    /// The architecture.
    public let config: TextConfig
    /// Width of the text embedding.
    public var embedDim: Int { weights.embedDim }
    /// The engine the tower's kernels run on.
    public let engine: ComputeEngine
    /// Most tokens (prefix-tree rows) encoded together in one pass; a sequence longer than
    /// this still gets a pass of its own.
    public let rowsPerPass: Int

    private let weights: TextWeights

    /// A tower over loaded weights, encoding at most `rowsPerPass` prefix-tree rows at once.
    public init(weights: TextWeights, engine: ComputeEngine, rowsPerPass: Int = TextTower.defaultRowsPerPass) {
        self.config = weights.config
        self.weights = weights
        self.engine = engine
        self.rowsPerPass = max(rowsPerPass, 1)
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

        // Sorted, prompts that share a prefix are neighbours, and each one's new tokens are
        // those after its common prefix with the one before.
        let sequences = ids.indices.map { Array(ids[$0][...endPositions[$0]]) }
        let order = sequences.indices.sorted { sequences[$0].lexicographicallyPrecedes(sequences[$1]) }
        var embeddings = [Float](repeating: 0, count: ids.count * embedDim)
        var pass = PrefixTree()
        var members: [Int] = []
        func encodeMembers() throws(CLIPError) {
            let pooled = try kernel { () throws(TensorError) in try encodePass(pass) }
            for (slot, prompt) in members.enumerated() {
                let row = pooled[(slot * embedDim)..<((slot + 1) * embedDim)]
                embeddings.replaceSubrange((prompt * embedDim)..<((prompt + 1) * embedDim), with: row)
            }
            pass = PrefixTree()
            members = []
        }
        for prompt in order {
            if pass.rowCount + pass.newRows(for: sequences[prompt]) > rowsPerPass, !members.isEmpty {
                try encodeMembers()
            }
            pass.insert(sequences[prompt])
            members.append(prompt)
        }
        if !members.isEmpty { try encodeMembers() }
        return try kernel { () throws(TensorError) in try Tensor(shape: [ids.count, embedDim], scalars: embeddings) }
    }

    /// One pass over the rows of `tree`; returns the embedding at each inserted sequence's
    /// last token, in insertion order.
    private func encodePass(_ tree: PrefixTree) throws(TensorError) -> [Float] {
        let width = config.width
        let rows = tree.rowCount
        let workspace = BlockWorkspace(rows: rows, scoreLength: 0, width: width, heads: config.heads, mlpWidth: config.mlpWidth)

        // token_embedding[id] + positional_embedding[position]: a gather, which oneDNN has
        // no primitive for.
        let tokens = AlignedFloats(count: rows * width)
        for row in 0..<rows {
            let destination = tokens.base + row * width
            let token = weights.tokenEmbedding.base + tree.tokens[row] * width
            let position = weights.positionalEmbedding.base + tree.positions[row] * width
            for index in 0..<width { destination[index] = token[index] + position[index] }
        }

        for block in weights.blocks {
            try block.apply(to: tokens.base, rows: rows, pattern: .prefixTree(parents: tree.parents), workspace: workspace, engine: engine)
        }

        // ln_final and the projection only at each sequence's end-of-text row.
        let prompts = tree.lastRows.count
        let pooled = AlignedFloats(count: prompts * width)
        for (prompt, row) in tree.lastRows.enumerated() {
            (pooled.base + prompt * width).update(from: tokens.base + row * width, count: width)
        }
        let pooledView = pooled.matrix(rows: prompts, columns: width)
        try engine.layerNorm(pooledView, weights.finalNorm, into: pooledView)
        let embedded = AlignedFloats(count: prompts * embedDim)
        try engine.linear(pooledView, weights.projection, into: embedded.matrix(rows: prompts, columns: embedDim))
        return Array(UnsafeBufferPointer(start: embedded.base, count: prompts * embedDim))
    }
}

/// Token sequences merged into a tree of their distinct prefixes: row `r` is one token
/// (`tokens[r]` at `positions[r]`) whose predecessor is row `parents[r]` (−1 for a first
/// token). Rows are created in insertion order, so a parent always precedes its children.
struct PrefixTree {
    private(set) var tokens: [Int] = []
    private(set) var positions: [Int] = []
    private(set) var parents: [Int] = []
    /// For each inserted sequence, the row of its last token.
    private(set) var lastRows: [Int] = []
    /// The rows of the previous sequence: sequences arrive sorted, so any prefix a new one
    /// shares with the tree it shares with that one.
    private var previousRows: [Int] = []

    var rowCount: Int { tokens.count }

    /// The rows `sequence` would add.
    func newRows(for sequence: [Int]) -> Int { sequence.count - sharedPrefixLength(sequence) }

    /// Adds `sequence`, which must not sort before the previously inserted one.
    mutating func insert(_ sequence: [Int]) {
        let shared = sharedPrefixLength(sequence)
        var rows = Array(previousRows[..<shared])
        for position in shared..<sequence.count {
            parents.append(rows.last ?? -1)
            tokens.append(sequence[position])
            positions.append(position)
            rows.append(tokens.count - 1)
        }
        lastRows.append(rows[sequence.count - 1])
        previousRows = rows
    }

    private func sharedPrefixLength(_ sequence: [Int]) -> Int {
        var length = 0
        while length < min(sequence.count, previousRows.count), sequence[length] == tokens[previousRows[length]] {
            length += 1
        }
        return length
    }
}

import Tensor

/// What InCTRL keeps of one image after the vision tower (docs/MODEL.md §3).
public struct ImageFeatures: Sendable {
    /// `cls(x)`: the pooled embedding after `ln_post` and `proj`, not normalised.
    public let embedding: [Float]
    /// `tap_l(x)` for each tap layer in order: the raw residual stream after that block,
    /// class token dropped, `[patches, width]`.
    public let taps: [Tensor]

    /// Features as the vision tower returns them.
    public init(embedding: [Float], taps: [Tensor]) {
        self.embedding = embedding
        self.taps = taps
    }
}

/// Everything scoring needs from a prompt set, computed once when it is registered.
public struct PromptSetFeatures: Sendable {
    /// K, the number of normal images.
    public let shots: Int
    /// Per tap layer: the rows of every shot's tap, L2-normalised and concatenated in shot
    /// order, `[patches·K, width]` — the `R` of the patch-level residual.
    public let normalizedTaps: [Tensor]
    /// `mean_k Adapter(cls(n_k))`: the image-level prototype (adapter first, then mean).
    public let prototype: [Float]

    /// Features restored from a cache; the caller vouches they came from ``init(shots:adapter:engine:)``.
    public init(shots: Int, normalizedTaps: [Tensor], prototype: [Float]) {
        self.shots = shots
        self.normalizedTaps = normalizedTaps
        self.prototype = prototype
    }

    /// Derives the cached features from the shots' image features.
    public init(shots: [ImageFeatures], adapter: Adapter, engine: ComputeEngine) throws(TensorError) {
        precondition(!shots.isEmpty, "a prompt set needs at least one image")
        self.shots = shots.count
        let layers = shots[0].taps.count
        var normalizedTaps: [Tensor] = []
        for layer in 0..<layers {
            let rows = shots.map { $0.taps[layer] }
            let width = rows[0].shape[1]
            let stacked = try Tensor(shape: [rows.count * rows[0].shape[0], width], scalars: rows.flatMap(\.scalars))
            normalizedTaps.append(try engine.l2NormalizedRows(stacked))
        }
        self.normalizedTaps = normalizedTaps
        let adapted = shots.map { adapter($0.embedding) }
        prototype = meanOfRows(adapted)
    }
}

/// The column-wise mean of equally long vectors, summed in order then divided, as
/// `torch.mean` over a small leading dimension does.
func meanOfRows(_ rows: [[Float]]) -> [Float] {
    var sum = [Float](repeating: 0, count: rows[0].count)
    for row in rows {
        for index in row.indices { sum[index] += row[index] }
    }
    let count = Float(rows.count)
    return sum.map { $0 / count }
}

/// `v / ||v||₂`.
func l2Normalized(_ vector: [Float]) -> [Float] {
    let norm = vector.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
    return vector.map { $0 / norm }
}

/// The dot product of two equally long vectors.
func dot(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).reduce(Float(0)) { $0 + $1.0 * $1.1 }
}

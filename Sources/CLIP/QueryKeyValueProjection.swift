import Tensor

/// How a transformer block packs attention's input projection (`attn.in_proj_weight` /
/// `in_proj_bias`, width → 3·width, q | k | v stacked).
public enum QueryKeyValueProjection: Sendable {
    /// One layer, writing q | k | v side by side in each row: fp32, and the text tower,
    /// whose attention kernel reads the fused rows.
    case fused(LinearWeights)
    /// Three width → width layers, each writing its own dense `[rows, width]` matrix: the
    /// vision tower in bf16. p·v then reads v's heads as a 4-D view of dense token rows,
    /// which oneDNN runs on its brgemm kernel; heads inside a fused row it can only run on
    /// `gemm:jit`, about a quarter slower at attention's shapes.
    case separate(query: LinearWeights, key: LinearWeights, value: LinearWeights)

    /// The packed layers: one, or q, k and v.
    public var layers: [LinearWeights] {
        switch self {
        case let .fused(layer): [layer]
        case let .separate(query, key, value): [query, key, value]
        }
    }
}

import Tensor

/// One pre-norm residual block of a CLIP transformer (OpenCLIP `ResidualAttentionBlock`):
/// `x += out_proj(MHA(ln_1(x)))`, then `x += c_proj(GELU(c_fc(ln_2(x))))`.
public struct TransformerBlockWeights: Sendable {
    /// Residual stream width.
    public let width: Int
    /// Attention heads; each attends over `width / heads` channels.
    public let heads: Int
    /// `ln_1`, before attention.
    public let attentionNorm: LayerNormWeights
    /// `attn.in_proj_weight` / `in_proj_bias`: width → 3·width, q | k | v stacked, packed as
    /// one layer or as three.
    public let queryKeyValue: QueryKeyValueProjection
    /// `attn.out_proj`: width → width.
    public let attentionOutput: LinearWeights
    /// `ln_2`, before the MLP.
    public let mlpNorm: LayerNormWeights
    /// `mlp.c_fc`: width → mlpWidth, followed by exact GELU.
    public let mlpExpand: LinearWeights
    /// `mlp.c_proj`: mlpWidth → width.
    public let mlpContract: LinearWeights

    /// Whether full attention runs in bf16: its projections are packed in bf16, so q, k, v
    /// and the head outputs are rounded to bf16 anyway (`attendInBF16`), with q, k and v as
    /// separate layers.
    var attendsInBF16: Bool {
        guard case .separate = queryKeyValue else { return false }
        return queryKeyValue.layers.allSatisfy { $0.precision == .bf16 } && attentionOutput.precision == .bf16
    }

    /// Loads the block stored under `prefix` (e.g. `visual.transformer.resblocks.3.`). With
    /// `separateQueryKeyValue` and bf16 weights, attention's input projection is packed as
    /// three layers (`QueryKeyValueProjection.separate`), for full attention in bf16.
    init(
        loading loader: WeightLoader, prefix: String, width: Int, heads: Int, mlpWidth: Int, typicalRows: Int,
        separateQueryKeyValue: Bool = false
    ) throws(CLIPError) {
        self.width = width
        self.heads = heads
        attentionNorm = try loader.layerNorm(prefix + "ln_1", width: width)
        if separateQueryKeyValue, loader.precision == .bf16 {
            let parts = try loader.linearParts(
                weight: prefix + "attn.in_proj_weight", bias: prefix + "attn.in_proj_bias",
                inFeatures: width, outFeatures: width, parts: 3, typicalRows: typicalRows)
            queryKeyValue = .separate(query: parts[0], key: parts[1], value: parts[2])
        } else {
            queryKeyValue = .fused(try loader.linear(
                weight: prefix + "attn.in_proj_weight", bias: prefix + "attn.in_proj_bias",
                inFeatures: width, outFeatures: 3 * width, typicalRows: typicalRows))
        }
        attentionOutput = try loader.linear(
            weight: prefix + "attn.out_proj.weight", bias: prefix + "attn.out_proj.bias",
            inFeatures: width, outFeatures: width, typicalRows: typicalRows)
        mlpNorm = try loader.layerNorm(prefix + "ln_2", width: width)
        mlpExpand = try loader.linear(
            weight: prefix + "mlp.c_fc.weight", bias: prefix + "mlp.c_fc.bias",
            inFeatures: width, outFeatures: mlpWidth, typicalRows: typicalRows)
        mlpContract = try loader.linear(
            weight: prefix + "mlp.c_proj.weight", bias: prefix + "mlp.c_proj.bias",
            inFeatures: mlpWidth, outFeatures: width, typicalRows: typicalRows)
    }

    /// Hidden width of the MLP.
    public var mlpWidth: Int { mlpExpand.outFeatures }
}

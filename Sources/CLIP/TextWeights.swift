import Tensor

/// Every weight of the text tower (OpenCLIP's `CLIP.encode_text` path), loaded by reference
/// key and shape-checked.
public struct TextWeights: Sendable {
    /// The architecture the weights were loaded for.
    public let config: TextConfig
    /// Width of the text embedding.
    public let embedDim: Int
    /// `token_embedding.weight`, `[vocabSize, width]`: gathered by token id, never multiplied.
    let tokenEmbedding: AlignedFloats
    /// `positional_embedding`, `[contextLength, width]`.
    let positionalEmbedding: AlignedFloats
    /// The residual blocks, in order.
    public let blocks: [TransformerBlockWeights]
    /// `ln_final`.
    public let finalNorm: LayerNormWeights
    /// `text_projection`, `[width, embedDim]`, no bias.
    public let projection: LinearWeights

    /// Loads the text tensors of `file`, packing every matmul weight in `precision`; a
    /// missing or mis-shaped tensor throws an error naming its key.
    public init(
        loading file: SafeTensorsFile, config: TextConfig, embedDim: Int, engine: ComputeEngine,
        precision: WeightPrecision = .fp32
    ) throws(CLIPError) {
        let loader = WeightLoader(file: file, engine: engine, precision: precision)
        let width = config.width
        self.config = config
        self.embedDim = embedDim
        tokenEmbedding = AlignedFloats(try loader.floats("token_embedding.weight", [config.vocabSize, width]))
        positionalEmbedding = AlignedFloats(try loader.floats("positional_embedding", [config.contextLength, width]))
        var blocks: [TransformerBlockWeights] = []
        for index in 0..<config.layers {
            blocks.append(try TransformerBlockWeights(
                loading: loader, prefix: "transformer.resblocks.\(index).", width: width, heads: config.heads,
                mlpWidth: config.mlpWidth, typicalRows: TextTower.defaultRowsPerPass))
        }
        self.blocks = blocks
        finalNorm = try loader.layerNorm("ln_final", width: width)
        projection = try loader.projection(
            "text_projection", inFeatures: width, outFeatures: embedDim, typicalRows: TextTower.defaultRowsPerPass)
    }
}

import Tensor

/// Every weight of the vision tower (OpenCLIP `VisionTransformer`), loaded by reference key
/// and shape-checked, with matmul weights packed for the tower's 226-token shape.
public struct VisionWeights: Sendable {
    /// The architecture the weights were loaded for.
    public let config: VisionConfig
    /// Width of the pooled embedding.
    public let embedDim: Int
    /// `conv1.weight` viewed as `[width, 3·patch·patch]`: a stride-`patch` convolution is a
    /// matmul over unfolded patches (no bias).
    public let patchEmbedding: LinearWeights
    /// The residual stream before the patch embeddings are added: row 0 is
    /// `class_embedding + positional_embedding[0]`, row 1+p is `positional_embedding[1+p]`.
    public let initialTokens: Tensor
    /// `ln_pre`.
    public let preNorm: LayerNormWeights
    /// The residual blocks, in order.
    public let blocks: [TransformerBlockWeights]
    /// `ln_post`, applied to the class token.
    public let postNorm: LayerNormWeights
    /// `proj`, `[width, embedDim]`, no bias.
    public let projection: LinearWeights

    /// Whether the blocks' attention runs in bf16 (their projections are packed in bf16).
    var attendsInBF16: Bool { blocks.contains(where: \.attendsInBF16) }

    /// Loads the `visual.*` tensors of `file`, packing every matmul weight in `precision`;
    /// a missing or mis-shaped tensor throws an error naming its key.
    public init(
        loading file: SafeTensorsFile, config: VisionConfig, embedDim: Int, engine: ComputeEngine,
        precision: WeightPrecision = .fp32
    ) throws(CLIPError) {
        let loader = WeightLoader(file: file, engine: engine, precision: precision)
        let width = config.width
        let tokens = config.patchCount + 1
        let patchValues = 3 * config.patchSize * config.patchSize
        self.config = config
        self.embedDim = embedDim

        let convolution = try loader.floats("visual.conv1.weight", [width, 3, config.patchSize, config.patchSize])
        patchEmbedding = try kernel { () throws(TensorError) in
            try engine.packLinear(
                weight: convolution, orientation: .outputMajor, inFeatures: patchValues, outFeatures: width,
                typicalRows: config.patchCount, precision: precision)
        }
        let classEmbedding = try loader.tensor("visual.class_embedding", [width])
        let positions = try loader.tensor("visual.positional_embedding", [tokens, width])
        initialTokens = try kernel { () throws(TensorError) in
            let classToken = try engine.add(classEmbedding.reshaped(to: [1, width]), positions.rows(0..<1))
            return try Tensor(shape: [tokens, width], scalars: classToken.scalars + positions.rows(1..<tokens).scalars)
        }
        preNorm = try loader.layerNorm("visual.ln_pre", width: width)
        var blocks: [TransformerBlockWeights] = []
        for index in 0..<config.layers {
            blocks.append(try TransformerBlockWeights(
                loading: loader, prefix: "visual.transformer.resblocks.\(index).", width: width, heads: config.heads,
                mlpWidth: config.mlpWidth, typicalRows: tokens, separateQueryKeyValue: true))
        }
        self.blocks = blocks
        postNorm = try loader.layerNorm("visual.ln_post", width: width)
        projection = try loader.projection("visual.proj", inFeatures: width, outFeatures: embedDim, typicalRows: 1)
    }
}

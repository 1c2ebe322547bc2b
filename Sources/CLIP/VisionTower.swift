import Synchronization
import Tensor

/// The CLIP vision transformer (docs/MODEL.md §1, vision forward) on normalised images, one
/// at a time or several stacked into one forward pass.
///
/// Every call runs with the same preallocated workspace and cached oneDNN primitives, so a
/// forward pass allocates only its outputs. The workspace holds as many images as the largest
/// batch seen so far (it grows on demand and is kept). Calls are serialised by a lock around
/// the workspace; the tower is safe to share, but one forward runs at a time.
public final class VisionTower: Sendable {
    /// The architecture.
    public let config: VisionConfig
    /// Width of the pooled embedding.
    public var embedDim: Int { weights.embedDim }
    /// The engine the tower's kernels run on.
    public let engine: ComputeEngine

    private let weights: VisionWeights
    private let workspace: Mutex<VisionWorkspace>

    /// A tower over loaded weights.
    public init(weights: VisionWeights, engine: ComputeEngine) {
        self.config = weights.config
        self.weights = weights
        self.engine = engine
        workspace = Mutex(VisionWorkspace(
            config: weights.config, embedDim: weights.embedDim, images: 1, attentionInBF16: weights.attendsInBF16))
    }

    /// The matrix products of one forward on one image as this tower runs them (q, k and v
    /// apart in bf16; see `VisionConfig.matmuls(embedDim:separateQueryKeyValue:)`).
    public var matmuls: [VisionMatmul] { config.matmuls(embedDim: embedDim, separateQueryKeyValue: weights.attendsInBF16) }

    /// The shape `encode` takes: `[3, imageSize, imageSize]`.
    public var imageShape: [Int] { [3, config.imageSize, config.imageSize] }

    /// The most images the workspace holds now (the largest batch encoded so far, at least 1).
    public var workspaceImages: Int { workspace.withLock { $0.images } }

    /// Encodes one image, returning its pooled embedding and the residual stream after
    /// each block in `tapLayers` (1-based block numbers).
    public func encode(_ image: Tensor, tapLayers: [Int]) throws(CLIPError) -> VisionFeatures {
        try encode([image], tapLayers: tapLayers)[0]
    }

    /// Encodes `images` as one stacked forward pass: their token rows are concatenated, so
    /// each linear layer runs once over all of them, while attention, the patch embedding
    /// and the pooled projection run image by image. Each result is bit for bit what
    /// `encode(_:tapLayers:)` gives for that image alone: LayerNorm and the linear layers'
    /// epilogues work row by row, attention per sequence through the same primitives, and
    /// oneDNN's matmul sums every output over K in the same order whatever the row count
    /// with the weights' packed layout fixed (Tests/TensorTests/ComputeEngine+RowCountTests.swift
    /// checks the full-size layers for 1 to 8 images; Tests/InCTRLTests/BatchedVisionTests.swift
    /// the whole tower). Memory grows with the batch (about 8.5 MiB per image at full size in
    /// fp32), so callers bound it.
    public func encode(_ images: [Tensor], tapLayers: [Int]) throws(CLIPError) -> [VisionFeatures] {
        for image in images where image.shape != imageShape {
            throw .imageShape(expected: imageShape, found: image.shape)
        }
        for layer in tapLayers where !(1...config.layers).contains(layer) {
            throw .tapLayer(layer, layers: config.layers)
        }
        guard !images.isEmpty else { return [] }
        let config = self.config
        let embedDim = self.embedDim
        let attentionInBF16 = weights.attendsInBF16
        return try workspace.withLock { (workspace) throws(CLIPError) -> [VisionFeatures] in
            if workspace.images < images.count {
                workspace = VisionWorkspace(config: config, embedDim: embedDim, images: images.count, attentionInBF16: attentionInBF16)
            }
            let current = workspace
            return try kernel { () throws(TensorError) in try forward(images, tapLayers: tapLayers, workspace: current) }
        }
    }

    private func forward(
        _ images: [Tensor], tapLayers: [Int], workspace: VisionWorkspace
    ) throws(TensorError) -> [VisionFeatures] {
        let width = config.width
        let patch = config.patchSize
        let grid = config.gridSize
        let side = config.imageSize
        let patches = config.patchCount
        let tokens = patches + 1
        let count = images.count

        for (index, image) in images.enumerated() {
            // conv1 as a matmul: gather each patch's [c][ky][kx] values into one row (a strided
            // copy). The image is only read.
            try image.withUnsafeBufferPointer { (pixels) throws(TensorError) in
                let patchGrid = TensorView(
                    UnsafeMutablePointer(mutating: pixels.baseAddress!), shape: [grid, grid, 3, patch, patch],
                    strides: [patch * side, patch, side * side, side, 1])
                try engine.copy(patchGrid, into: TensorView(workspace.patches.base, shape: patchGrid.shape))
            }

            // Class token and positions first, then the patch embeddings added onto rows 1…
            let firstRow = index * tokens
            try weights.initialTokens.withUnsafeBufferPointer { (initial) throws(TensorError) in
                (workspace.tokens.base + firstRow * width).update(from: initial.baseAddress!, count: initial.count)
            }
            try engine.linear(
                workspace.patches.matrix(rows: patches, columns: 3 * patch * patch), weights.patchEmbedding,
                into: workspace.tokens.matrix(rows: patches, columns: width, firstRow: firstRow + 1), epilogue: .residualAdd)
        }

        let rows = count * tokens
        let stream = workspace.tokens.matrix(rows: rows, columns: width)
        try engine.layerNorm(stream, weights.preNorm, into: stream)

        var taps: [Int: [Tensor]] = [:]
        for (index, block) in weights.blocks.enumerated() {
            try block.apply(
                to: workspace.tokens.base, rows: rows, pattern: .full(length: tokens), workspace: workspace.blocks, engine: engine)
            let layer = index + 1
            if tapLayers.contains(layer) {
                taps[layer] = (0..<count).map { image in
                    workspace.tokens.tensor(shape: [patches, width], offset: (image * tokens + 1) * width)
                }
            }
        }

        var features: [VisionFeatures] = []
        features.reserveCapacity(count)
        for image in 0..<count {
            let classToken = workspace.tokens.matrix(rows: 1, columns: width, firstRow: image * tokens)
            let pooledNormed = workspace.pooled.matrix(rows: 1, columns: width)
            try engine.layerNorm(classToken, weights.postNorm, into: pooledNormed)
            try engine.linear(pooledNormed, weights.projection, into: workspace.embedding.matrix(rows: 1, columns: embedDim))
            // Every requested layer was checked against 1...layers and every block ran.
            features.append(VisionFeatures(
                pooled: workspace.embedding.tensor(shape: [embedDim]), tapLayers: tapLayers,
                taps: tapLayers.map { taps[$0]![image] }))
        }
        return features
    }
}

/// The vision tower's preallocated buffers, for up to `images` images at once.
final class VisionWorkspace: Sendable {
    /// How many images the buffers hold.
    let images: Int
    /// Unfolded patches of one image, `[patchCount, 3·patch·patch]`.
    let patches: AlignedFloats
    /// The residual streams, `[images·(patchCount + 1), width]`, image after image.
    let tokens: AlignedFloats
    /// `ln_post` of one class token, `[1, width]`.
    let pooled: AlignedFloats
    /// One pooled embedding, `[1, embedDim]`.
    let embedding: AlignedFloats
    /// Scratch for the residual blocks.
    let blocks: BlockWorkspace

    /// `attentionInBF16`: the blocks' attention runs in bf16 and so needs a buffer for its
    /// rounded probabilities.
    init(config: VisionConfig, embedDim: Int, images: Int, attentionInBF16: Bool) {
        let tokens = config.patchCount + 1
        self.images = images
        patches = AlignedFloats(count: config.patchCount * 3 * config.patchSize * config.patchSize)
        self.tokens = AlignedFloats(count: images * tokens * config.width)
        pooled = AlignedFloats(count: config.width)
        embedding = AlignedFloats(count: embedDim)
        blocks = BlockWorkspace(
            rows: images * tokens, scoreLength: tokens, width: config.width, heads: config.heads, mlpWidth: config.mlpWidth,
            attentionInBF16: attentionInBF16)
    }
}

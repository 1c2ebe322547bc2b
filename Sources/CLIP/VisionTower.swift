import Synchronization
import Tensor

/// The CLIP vision transformer (docs/MODEL.md §1, vision forward) on one normalised image.
///
/// Every call runs with the same preallocated workspace and cached oneDNN primitives, so a
/// forward pass allocates only its outputs. Calls are serialised by a lock around the
/// workspace; the tower is safe to share, but one forward runs at a time.
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
        workspace = Mutex(VisionWorkspace(config: weights.config, embedDim: weights.embedDim))
    }

    /// The shape `encode` takes: `[3, imageSize, imageSize]`.
    public var imageShape: [Int] { [3, config.imageSize, config.imageSize] }

    /// Encodes one image, returning its pooled embedding and the residual stream after
    /// each block in `tapLayers` (1-based block numbers).
    public func encode(_ image: Tensor, tapLayers: [Int]) throws(CLIPError) -> VisionFeatures {
        guard image.shape == imageShape else { throw .imageShape(expected: imageShape, found: image.shape) }
        for layer in tapLayers where !(1...config.layers).contains(layer) {
            throw .tapLayer(layer, layers: config.layers)
        }
        return try workspace.withLock { (workspace) throws(CLIPError) -> VisionFeatures in
            try image.withUnsafeBufferPointer { (pixels) throws(CLIPError) -> VisionFeatures in
                // The image is only read: the patch gather copies from it.
                let base = UnsafeMutablePointer(mutating: pixels.baseAddress!)
                return try kernel { () throws(TensorError) in
                    try forward(base, tapLayers: tapLayers, workspace: workspace)
                }
            }
        }
    }

    /// Encodes each image in turn. Each result is bit-for-bit what `encode(_:tapLayers:)`
    /// gives for that image alone, which batched scoring relies on: stacking the images into
    /// one matmul could let oneDNN block the work differently for the larger row count.
    public func encode(_ images: [Tensor], tapLayers: [Int]) throws(CLIPError) -> [VisionFeatures] {
        var features: [VisionFeatures] = []
        features.reserveCapacity(images.count)
        for image in images { features.append(try encode(image, tapLayers: tapLayers)) }
        return features
    }

    private func forward(
        _ image: UnsafeMutablePointer<Float>, tapLayers: [Int], workspace: VisionWorkspace
    ) throws(TensorError) -> VisionFeatures {
        let width = config.width
        let patch = config.patchSize
        let grid = config.gridSize
        let side = config.imageSize
        let patches = config.patchCount

        // conv1 as a matmul: gather each patch's [c][ky][kx] values into one row (a strided copy).
        let patchGrid = TensorView(
            image, shape: [grid, grid, 3, patch, patch], strides: [patch * side, patch, side * side, side, 1])
        try engine.copy(patchGrid, into: TensorView(workspace.patches.base, shape: patchGrid.shape))

        // Class token and positions first, then the patch embeddings added onto rows 1…
        try weights.initialTokens.withUnsafeBufferPointer { (initial) throws(TensorError) in
            workspace.tokens.base.update(from: initial.baseAddress!, count: initial.count)
        }
        try engine.linear(
            workspace.patches.matrix(rows: patches, columns: 3 * patch * patch), weights.patchEmbedding,
            into: workspace.tokens.matrix(rows: patches, columns: width, firstRow: 1), epilogue: .residualAdd)

        let stream = workspace.tokens.matrix(rows: patches + 1, columns: width)
        try engine.layerNorm(stream, weights.preNorm, into: stream)

        var taps: [Int: Tensor] = [:]
        for (index, block) in weights.blocks.enumerated() {
            try block.apply(
                to: workspace.tokens.base, pattern: .full(length: patches + 1), workspace: workspace.blocks, engine: engine)
            let layer = index + 1
            if tapLayers.contains(layer) {
                taps[layer] = workspace.tokens.tensor(shape: [patches, width], offset: width)
            }
        }

        let classToken = workspace.tokens.matrix(rows: 1, columns: width)
        let pooledNormed = workspace.pooled.matrix(rows: 1, columns: width)
        try engine.layerNorm(classToken, weights.postNorm, into: pooledNormed)
        try engine.linear(pooledNormed, weights.projection, into: workspace.embedding.matrix(rows: 1, columns: embedDim))

        // Every requested layer was checked against 1...layers and every block ran.
        return VisionFeatures(
            pooled: workspace.embedding.tensor(shape: [embedDim]), tapLayers: tapLayers,
            taps: tapLayers.map { taps[$0]! })
    }
}

/// The vision tower's preallocated buffers.
final class VisionWorkspace: Sendable {
    /// Unfolded patches, `[patchCount, 3·patch·patch]`.
    let patches: AlignedFloats
    /// The residual stream, `[patchCount + 1, width]`.
    let tokens: AlignedFloats
    /// `ln_post` of the class token, `[1, width]`.
    let pooled: AlignedFloats
    /// The pooled embedding, `[1, embedDim]`.
    let embedding: AlignedFloats
    /// Scratch for the residual blocks.
    let blocks: BlockWorkspace

    init(config: VisionConfig, embedDim: Int) {
        let tokens = config.patchCount + 1
        patches = AlignedFloats(count: config.patchCount * 3 * config.patchSize * config.patchSize)
        self.tokens = AlignedFloats(count: tokens * config.width)
        pooled = AlignedFloats(count: config.width)
        embedding = AlignedFloats(count: embedDim)
        blocks = BlockWorkspace(
            rows: tokens, scoreLength: tokens, width: config.width, heads: config.heads, mlpWidth: config.mlpWidth)
    }
}

/// The shapes a model's derived features have, which every stored feature must match.
public struct FeatureGeometry: Sendable, Hashable {
    /// Number of tap layers (3 for InCTRL).
    public var tapLayers: Int
    /// Patch tokens per image (225 for a 15×15 grid).
    public var patchesPerImage: Int
    /// Width of a tap's rows, the vision tower's residual width (896 for ViT-B-16-plus-240).
    public var tapWidth: Int
    /// Width of the joint embedding: the prototype and the text features (640).
    public var embeddingWidth: Int

    /// The shapes of a model.
    public init(tapLayers: Int, patchesPerImage: Int, tapWidth: Int, embeddingWidth: Int) {
        self.tapLayers = tapLayers
        self.patchesPerImage = patchesPerImage
        self.tapWidth = tapWidth
        self.embeddingWidth = embeddingWidth
    }
}

/// What derived features are keyed by: the model that computed them and the shapes it
/// produces. Features of one model or precision are never served for another.
public struct DerivedFeatureKey: Sendable, Hashable {
    /// The SHA-256 of the model's weights file, followed by `-bf16` when its towers run in
    /// bf16 (their features differ from fp32's); see `InCTRLModel.identity`.
    public var modelIdentity: String
    /// The shapes every stored feature must have.
    public var geometry: FeatureGeometry

    /// The key of features computed by the model `modelIdentity` names.
    public init(modelIdentity: String, geometry: FeatureGeometry) {
        self.modelIdentity = modelIdentity
        self.geometry = geometry
    }
}

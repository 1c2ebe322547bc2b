import Tensor

/// Both CLIP towers of a model bundle, loaded onto one compute engine.
public struct CLIPModel: Sendable {
    /// The bundle's architecture.
    public let config: BundleConfig
    /// The image encoder.
    public let vision: VisionTower
    /// The prompt encoder.
    public let text: TextTower

    /// Loads every CLIP weight of `bundle`, packing the matmul weights of both towers in
    /// `precision`. A missing or mis-shaped tensor throws `CLIPError.weights` naming the key.
    public init(bundle: ModelBundle, engine: ComputeEngine, precision: WeightPrecision = .fp32) throws(CLIPError) {
        config = bundle.config
        vision = try Self.vision(of: bundle, engine: engine, precision: precision)
        text = try Self.text(of: bundle, engine: engine, precision: precision)
    }

    /// Loads the image encoder of `bundle` alone.
    public static func vision(of bundle: ModelBundle, engine: ComputeEngine, precision: WeightPrecision = .fp32) throws(CLIPError) -> VisionTower {
        VisionTower(
            weights: try VisionWeights(
                loading: bundle.tensors, config: bundle.config.vision, embedDim: bundle.config.embedDim, engine: engine,
                precision: precision),
            engine: engine)
    }

    /// Loads the prompt encoder of `bundle` alone.
    public static func text(of bundle: ModelBundle, engine: ComputeEngine, precision: WeightPrecision = .fp32) throws(CLIPError) -> TextTower {
        TextTower(
            weights: try TextWeights(
                loading: bundle.tensors, config: bundle.config.text, embedDim: bundle.config.embedDim, engine: engine,
                precision: precision),
            engine: engine)
    }
}

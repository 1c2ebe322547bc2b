/// One tensor a bundle must hold: its reference key, its shape, and how a demo bundle
/// fills it.
///
/// A list of these serves three purposes: checking a bundle when it is opened, writing
/// random demo bundles, and naming the keys the checkpoint converter must find.
public struct WeightSpec: Sendable, Equatable {
    /// How a demo bundle initialises a tensor (OpenCLIP's and PyTorch's schemes).
    public enum Initialisation: Sendable, Equatable {
        /// Normal with mean 0 and this standard deviation.
        case normal(std: Float)
        /// Uniform in `-bound...bound` (PyTorch's default for `nn.Linear`).
        case uniform(bound: Float)
        /// Every element equal to this value (LayerNorm weight 1, biases 0).
        case constant(Float)
    }

    /// The reference key, e.g. `visual.transformer.resblocks.0.ln_1.weight`.
    public let key: String
    /// The exact shape the model needs.
    public let shape: [Int]
    /// How a demo bundle fills it.
    public let initialisation: Initialisation

    /// A spec.
    public init(key: String, shape: [Int], initialisation: Initialisation) {
        self.key = key
        self.shape = shape
        self.initialisation = initialisation
    }

    /// Number of elements.
    public var elementCount: Int { shape.reduce(1, *) }
}

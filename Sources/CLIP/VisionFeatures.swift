import Tensor

/// What the vision tower returns for one image.
public struct VisionFeatures: Sendable, Equatable {
    /// `ln_post(x[class]) · proj`, `[embedDim]`, not normalised.
    public let pooled: Tensor
    /// The 1-based block numbers tapped, in the order of `taps`.
    public let tapLayers: [Int]
    /// The raw residual stream after each tapped block, class token dropped:
    /// `[patchCount, width]`, no LayerNorm, no projection.
    public let taps: [Tensor]

    /// The tap after block `layer` (1-based), if it was requested.
    public func tap(layer: Int) -> Tensor? {
        tapLayers.firstIndex(of: layer).map { taps[$0] }
    }
}

/// The learned scale and shift of a LayerNorm over the last dimension.
public struct LayerNormWeights: Sendable {
    /// Size of the normalised (last) dimension.
    public let channels: Int
    /// Added to the variance before the square root.
    public let epsilon: Float

    let scale: AlignedFloats
    let shift: AlignedFloats

    /// LayerNorm parameters; `scale` and `shift` have one entry per channel.
    public init(scale: [Float], shift: [Float], epsilon: Float = 1e-5) throws(TensorError) {
        guard !scale.isEmpty, scale.count == shift.count else {
            throw TensorError.shapeMismatch(
                operation: "LayerNormWeights", detail: "\(scale.count) scale and \(shift.count) shift values")
        }
        channels = scale.count
        self.epsilon = epsilon
        self.scale = AlignedFloats(scale)
        self.shift = AlignedFloats(shift)
    }
}

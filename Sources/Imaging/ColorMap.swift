/// A colour scale for heat-maps: a position in [0, 1] becomes an sRGB colour by linear
/// interpolation between evenly spaced control points.
///
/// A perceptual scale (lightness rising steadily from one end to the other) lets an operator
/// read "brighter is more anomalous" without a legend and survives greyscale printing; a
/// rainbow scale would invent edges where the residual changes smoothly.
public struct ColorMap: Sendable {
    /// sRGB colours with components in [0, 1], at positions 0, 1/(n − 1), …, 1 (n ≥ 2).
    let controlPoints: [SIMD3<Float>]

    /// The colour at `position`, components in [0, 1]; positions below 0 (and NaN) take the
    /// first colour, positions above 1 the last.
    public func color(at position: Float) -> SIMD3<Float> {
        guard position > 0 else { return controlPoints[0] }
        guard position < 1 else { return controlPoints[controlPoints.count - 1] }
        let scaled = position * Float(controlPoints.count - 1)
        let index = min(Int(scaled), controlPoints.count - 2)
        let fraction = scaled - Float(index)
        return controlPoints[index] + (controlPoints[index + 1] - controlPoints[index]) * fraction
    }
}

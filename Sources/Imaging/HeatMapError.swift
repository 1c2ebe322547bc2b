/// Why a heat-map, its rendering or its regions could not be made. The inputs come from the
/// model and from the client's query (threshold, scale, opacity), so each case names the
/// value that was refused.
public enum HeatMapError: Error, Equatable, CustomStringConvertible {
    /// The grid side must be between 1 and the crop size.
    case invalidGridSize(Int)
    /// The residual map does not hold `gridSize × gridSize` values.
    case residualCountMismatch(count: Int, gridSize: Int)
    /// A residual is NaN or infinite (at row-major `index`).
    case nonFiniteResidual(index: Int)
    /// The image must be at least 1 × 1 and at most 2^24 pixels on a side.
    case invalidImageSize(width: Int, height: Int)
    /// The model's input side must be between 1 and 8192 pixels.
    case invalidCropSize(Int)
    /// The smoothing sigma must be finite and between 0 and the crop size.
    case invalidSmoothing(Double)
    /// The colour overlay's opacity must lie in [0, 1].
    case invalidOpacity(Float)
    /// The residual drawn in the top colour must be finite and positive.
    case invalidScale(Float)
    /// The heat-map was computed for an image of another size than the one it is drawn on.
    case sizeMismatch(fieldWidth: Int, fieldHeight: Int, imageWidth: Int, imageHeight: Int)
    /// The region threshold must be finite.
    case invalidThreshold(Float)
    /// The number of regions to report cannot be negative.
    case invalidRegionLimit(Int)

    /// What was refused, in terms the caller can correct.
    public var description: String {
        switch self {
        case .invalidGridSize(let size):
            "residual grid side \(size) is not between 1 and the crop size"
        case .residualCountMismatch(let count, let gridSize):
            "the residual map has \(count) values; a \(gridSize)×\(gridSize) grid needs \(gridSize * gridSize)"
        case .nonFiniteResidual(let index):
            "residual \(index) is not a finite number"
        case .invalidImageSize(let width, let height):
            "image size \(width)×\(height) is outside 1 to 2^24 pixels per side"
        case .invalidCropSize(let size):
            "crop size \(size) is outside 1...8192 pixels"
        case .invalidSmoothing(let sigma):
            "smoothing sigma \(sigma) is not between 0 and the crop size"
        case .invalidOpacity(let opacity):
            "opacity \(opacity) is outside [0, 1]"
        case .invalidScale(let scale):
            "colour scale maximum \(scale) must be finite and above 0"
        case .sizeMismatch(let fieldWidth, let fieldHeight, let imageWidth, let imageHeight):
            "the heat-map is \(fieldWidth)×\(fieldHeight) pixels but the image is \(imageWidth)×\(imageHeight)"
        case .invalidThreshold(let threshold):
            "region threshold \(threshold) is not a finite number"
        case .invalidRegionLimit(let limit):
            "region limit \(limit) is negative"
        }
    }
}

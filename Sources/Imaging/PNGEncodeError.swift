/// Why an image could not be encoded as PNG.
public enum PNGEncodeError: Error, Equatable, CustomStringConvertible {
    /// PNG holds at most 2^31 − 1 pixels per side (PNG specification §11.2.2).
    case dimensionsTooLarge(width: Int, height: Int)
    /// libspng refused the image or failed while encoding; `detail` is its own description.
    case encoderFailure(detail: String)

    /// What went wrong.
    public var description: String {
        switch self {
        case .dimensionsTooLarge(let width, let height):
            "a \(width)×\(height) image exceeds PNG's limit of 2^31 − 1 pixels per side"
        case .encoderFailure(let detail):
            "the PNG encoder failed: \(detail)"
        }
    }
}

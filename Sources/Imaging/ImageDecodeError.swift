/// Why bytes could not be turned into an image. Every case says what was wrong with the
/// input and, where there is one, what the sender can do about it.
public enum ImageDecodeError: Error, Equatable, CustomStringConvertible {
    /// The body was empty.
    case empty
    /// The bytes are not PNG or JPEG; `detected` names the format when it is a known one.
    case unsupportedFormat(detected: String?)
    /// The encoded file is larger than `ImageLimits.maxEncodedBytes`.
    case encodedTooLarge(bytes: Int, limit: Int)
    /// The header declares more pixels than `ImageLimits.maxPixels`.
    case tooManyPixels(width: Int, height: Int, limit: Int)
    /// The header declares a zero or otherwise impossible width or height.
    case invalidDimensions(format: ImageFormat, detail: String)
    /// The file ends before the image data is complete.
    case truncated(format: ImageFormat)
    /// A chunk's CRC-32 or the compressed stream's Adler-32 does not match its data.
    case checksumMismatch(format: ImageFormat, detail: String)
    /// A palette image refers to a colour its palette does not have.
    case paletteIndexOutOfRange(index: Int, paletteSize: Int)
    /// Metadata chunks exceed `ImageLimits.maxMetadataBytes` or libspng's 1 000-chunk cap.
    case metadataTooLarge(limit: Int)
    /// A valid file using a feature this service does not decode (e.g. 12-bit JPEG).
    case unsupportedFeature(format: ImageFormat, detail: String)
    /// The file is malformed in another way; `detail` is the decoder's own description.
    case corrupt(format: ImageFormat, detail: String)
    /// The decoder itself could not run (e.g. out of memory); not the sender's fault.
    case decoderFailure(format: ImageFormat, detail: String)

    /// A sentence for the client: what is wrong and, where possible, what to do about it.
    public var description: String {
        switch self {
        case .empty:
            "the image is empty (0 bytes); send a PNG or JPEG file"
        case .unsupportedFormat(let detected?):
            "\(detected) images are not supported; send a PNG or JPEG file"
        case .unsupportedFormat(nil):
            "the bytes are not a PNG or JPEG image"
        case .encodedTooLarge(let bytes, let limit):
            "the image file is \(bytes) bytes, more than the limit of \(limit) bytes"
        case .tooManyPixels(let width, let height, let limit):
            "the image is \(width)×\(height) pixels, more than the limit of \(limit) pixels; downscale it before sending"
        case .invalidDimensions(let format, let detail):
            "the \(format.rawValue) header declares invalid dimensions: \(detail)"
        case .truncated(let format):
            "the \(format.rawValue) file is truncated: it ends before the image data is complete"
        case .checksumMismatch(let format, let detail):
            "the \(format.rawValue) file is corrupt (checksum mismatch: \(detail))"
        case .paletteIndexOutOfRange(let index, let paletteSize):
            "the PNG uses palette index \(index) but its palette has only \(paletteSize) colours"
        case .metadataTooLarge(let limit):
            "the PNG carries more metadata than the limit of \(limit) bytes or chunks"
        case .unsupportedFeature(let format, let detail):
            "this \(format.rawValue) file uses a feature that is not supported: \(detail)"
        case .corrupt(let format, let detail):
            "the \(format.rawValue) file is corrupt: \(detail)"
        case .decoderFailure(let format, let detail):
            "the \(format.rawValue) decoder failed: \(detail)"
        }
    }
}

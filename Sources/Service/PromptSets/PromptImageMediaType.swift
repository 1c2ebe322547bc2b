/// The kind of a stored prompt image, recognised from its first bytes.
///
/// The store keeps images exactly as received and does not decide which ones a model can
/// decode; it only needs a media type to report and a file extension to store under.
public enum PromptImageMediaType: String, Sendable, Codable, CaseIterable {
    case png = "image/png"
    case jpeg = "image/jpeg"
    /// Anything else; stored as received with the extension `bin`.
    case unknown = "application/octet-stream"

    /// Recognises PNG (its 8-byte signature) and JPEG (the SOI marker followed by another marker).
    public init(sniffing bytes: [UInt8]) {
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            self = .png
        } else if bytes.starts(with: [0xFF, 0xD8, 0xFF]) {
            self = .jpeg
        } else {
            self = .unknown
        }
    }

    /// The extension of the stored file.
    public var fileExtension: String {
        switch self {
        case .png: "png"
        case .jpeg: "jpg"
        case .unknown: "bin"
        }
    }
}

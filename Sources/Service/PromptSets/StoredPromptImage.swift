import Foundation

/// One stored image of a prompt set.
public struct StoredPromptImage: Sendable, Equatable {
    /// Its size in bytes.
    public let byteCount: Int
    /// SHA-256 of its bytes, 64 lowercase hex digits.
    public let sha256: String
    /// What its first bytes say it is.
    public let mediaType: PromptImageMediaType
}

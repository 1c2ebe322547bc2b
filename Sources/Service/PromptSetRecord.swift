import Foundation

/// What the store knows about one registered prompt set, without its image bytes.
public struct PromptSetRecord: Sendable, Equatable {
    /// The content-derived id.
    public let id: PromptSetID
    /// The class name the text prior is built from.
    public let className: String
    /// When the set was first registered, to the second.
    public let createdAt: Date
    /// The images in registration order.
    public let images: [StoredPromptImage]

    /// K, the number of normal images.
    public var shots: Int { images.count }
}

/// One stored image of a prompt set.
public struct StoredPromptImage: Sendable, Equatable {
    /// Its size in bytes.
    public let byteCount: Int
    /// SHA-256 of its bytes, 64 lowercase hex digits.
    public let sha256: String
    /// What its first bytes say it is.
    public let mediaType: PromptImageMediaType
}

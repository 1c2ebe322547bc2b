import Foundation
import Tensor

/// One stored image of a prompt set.
public struct StoredPromptImage: Sendable, Equatable {
    /// Its size in bytes.
    public let byteCount: Int
    /// SHA-256 of its bytes, 64 lowercase hex digits.
    public let sha256: String
    /// What its first bytes say it is.
    public let mediaType: PromptImageMediaType

    /// The description of `bytes`: their size, SHA-256 and sniffed media type.
    public init(describing bytes: [UInt8]) {
        self.init(byteCount: bytes.count, sha256: SHA256.hex(bytes), mediaType: PromptImageMediaType(sniffing: bytes))
    }

    /// An image described by its stored fields.
    public init(byteCount: Int, sha256: String, mediaType: PromptImageMediaType) {
        self.byteCount = byteCount
        self.sha256 = sha256
        self.mediaType = mediaType
    }
}

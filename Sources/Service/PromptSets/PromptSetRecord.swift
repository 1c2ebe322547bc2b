import Foundation
import Tensor

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
    /// Extra normal images sent for calibration after registration, in the order received;
    /// not part of the id.
    public var calibrationImages: [StoredPromptImage]
    /// The threshold an operator set by hand, which wins over the calibrated one.
    public var manualThreshold: Float?

    /// K, the number of normal images.
    public var shots: Int { images.count }

    /// A record with every field given, as a store reads it back.
    public init(
        id: PromptSetID, className: String, createdAt: Date, images: [StoredPromptImage],
        calibrationImages: [StoredPromptImage] = [], manualThreshold: Float? = nil
    ) {
        self.id = id
        self.className = className
        self.createdAt = createdAt
        self.images = images
        self.calibrationImages = calibrationImages
        self.manualThreshold = manualThreshold
    }

    /// The record of a set registered now: `id` (derived from `className` and `images` by
    /// the caller, who needed it first), each image's size, SHA-256 and media type, and the
    /// current time to the second.
    public init(id: PromptSetID, className: String, images: [[UInt8]]) {
        self.init(
            id: id, className: className,
            createdAt: Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down)),
            images: images.map(StoredPromptImage.init(describing:)))
    }
}

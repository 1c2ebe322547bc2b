/// Why the registry refused a request about prompt sets.
public enum PromptSetRegistryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The registry has not been opened yet (the model is still loading).
    case notReady
    /// The class name is empty, too long or holds control characters.
    case invalidClassName(String)
    /// A prompt set needs at least one image.
    case noImages
    /// More images than ``PromptSetLimits/maxImagesPerSet``.
    case tooManyImages(count: Int, limit: Int)
    /// An image (0-based `index`) has no bytes.
    case emptyImage(index: Int)
    /// An image (0-based `index`) is larger than ``PromptSetLimits/maxImageBytes``.
    case imageTooLarge(index: Int, bytes: Int, limit: Int)
    /// ``PromptSetLimits/maxSets`` sets are registered or being registered.
    case full(limit: Int)
    /// No prompt set has this id.
    case notFound(PromptSetID)
    /// A calibration would give the set more images than ``PromptSetLimits/maxCalibrationImages``.
    case tooManyCalibrationImages(count: Int, limit: Int)
    /// A threshold outside [0, 1].
    case invalidThreshold(Float)

    public var description: String {
        switch self {
        case .notReady:
            "The prompt sets are not loaded yet."
        case let .invalidClassName(reason):
            "Invalid class name: \(reason)."
        case .noImages:
            "A prompt set needs at least one image."
        case let .tooManyImages(count, limit):
            "A prompt set may hold at most \(limit) images; \(count) were sent."
        case let .emptyImage(index):
            "Image \(index) is empty."
        case let .imageTooLarge(index, bytes, limit):
            "Image \(index) is \(bytes) bytes; the limit is \(limit) bytes per image."
        case let .full(limit):
            "The store already holds its limit of \(limit) prompt sets; delete one first."
        case let .notFound(id):
            "No prompt set has id \(id)."
        case let .tooManyCalibrationImages(count, limit):
            "A prompt set may hold at most \(limit) calibration images; this would make \(count)."
        case let .invalidThreshold(threshold):
            "The threshold must be a number from 0 to 1, not \(threshold)."
        }
    }
}

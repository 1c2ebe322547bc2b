/// Why the prompt-set store refused or failed an operation.
public enum PromptSetStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An operation came before ``PromptSetStore/open()``.
    case notOpen
    /// ``PromptSetStore/open()`` was called a second time.
    case alreadyOpen
    /// The data directory cannot be created or read.
    case dataDirectoryUnusable(path: String, reason: String)
    /// The class name is empty, too long or holds control characters.
    case invalidClassName(String)
    /// A prompt set needs at least one image.
    case noImages
    /// More images than ``PromptSetStore/Limits/maxImagesPerSet``.
    case tooManyImages(count: Int, limit: Int)
    /// An image (0-based `index`) has no bytes.
    case emptyImage(index: Int)
    /// An image (0-based `index`) is larger than ``PromptSetStore/Limits/maxImageBytes``.
    case imageTooLarge(index: Int, bytes: Int, limit: Int)
    /// The store already holds ``PromptSetStore/Limits/maxSets`` sets.
    case storeFull(limit: Int)
    /// No prompt set has this id.
    case notFound(PromptSetID)
    /// A stored set no longer matches its manifest (found when reading it back); it has been
    /// moved to the quarantine directory.
    case damaged(PromptSetID, reason: String)
    /// A file-system call failed.
    case fileSystem(operation: String, path: String, reason: String)

    public var description: String {
        switch self {
        case .notOpen:
            "The prompt-set store has not been opened yet."
        case .alreadyOpen:
            "The prompt-set store is already open; open it once per process."
        case let .dataDirectoryUnusable(path, reason):
            "Cannot use the data directory \(path): \(reason). Check that it exists and is writable."
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
        case let .storeFull(limit):
            "The store already holds its limit of \(limit) prompt sets; delete one first."
        case let .notFound(id):
            "No prompt set has id \(id)."
        case let .damaged(id, reason):
            "Prompt set \(id) is damaged on disk (\(reason)) and has been quarantined. Register it again."
        case let .fileSystem(operation, path, reason):
            "Storage failure: \(operation) \(path): \(reason)."
        }
    }
}

/// Why a prompt-set store failed an operation.
public enum PromptSetStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An operation came before ``PromptSetStore/open()``.
    case notOpen
    /// ``PromptSetStore/open()`` was called a second time.
    case alreadyOpen
    /// The data directory cannot be created or read.
    case dataDirectoryUnusable(path: String, reason: String)
    /// No set with this id is stored.
    case notFound(PromptSetID)
    /// A stored set no longer matches its record (found when reading it back); it has been
    /// taken out of service (the file store moves it to its quarantine directory).
    case damaged(PromptSetID, reason: String)
    /// A file-system call failed.
    case fileSystem(operation: String, path: String, reason: String)
    /// Derived features could not be kept.
    case featureCache(FeatureCacheError)
    /// The store's database cannot be reached (refused, timed out, connection lost); the
    /// operation did not happen and may be retried once the database is back.
    case unavailable(reason: String)
    /// The database answered a statement with an error that retrying will not cure (a
    /// schema newer than this build, a constraint, a bug).
    case database(operation: String, reason: String)

    public var description: String {
        switch self {
        case .notOpen:
            "The prompt-set store has not been opened yet."
        case .alreadyOpen:
            "The prompt-set store is already open; open it once per process."
        case let .dataDirectoryUnusable(path, reason):
            "Cannot use the data directory \(path): \(reason). Check that it exists and is writable."
        case let .notFound(id):
            "No prompt set has id \(id)."
        case let .damaged(id, reason):
            "Prompt set \(id) is damaged on disk (\(reason)) and has been quarantined. Register it again."
        case let .fileSystem(operation, path, reason):
            "Storage failure: \(operation) \(path): \(reason)."
        case let .featureCache(error):
            "\(error)"
        case let .unavailable(reason):
            "The prompt-set database is unavailable (\(reason)). Check that it is running and reachable; retry later."
        case let .database(operation, reason):
            "The prompt-set database refused to \(operation): \(reason)."
        }
    }
}

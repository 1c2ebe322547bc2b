/// Why the feature cache could not be set up or written. Reading never throws: a cache
/// entry that cannot be trusted is discarded and the caller recomputes.
public enum FeatureCacheError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The model hash cannot name a directory.
    case invalidModelHash(String)
    /// Features to be cached do not have the shapes of the cache's model.
    case shapeMismatch(what: String, expected: [Int], found: [Int])
    /// Writing or removing a cache file failed.
    case fileSystem(operation: String, path: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidModelHash(hash):
            "Invalid model hash '\(hash)': use 1 to 128 letters, digits, '.', '_' or '-', not starting with '.'."
        case let .shapeMismatch(what, expected, found):
            "Cannot cache \(what): shape \(found), the model's is \(expected)."
        case let .fileSystem(operation, path, reason):
            "Feature cache: cannot \(operation) \(path): \(reason)."
        }
    }
}

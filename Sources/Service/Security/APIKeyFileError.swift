/// Why a keys file could not be read, written or changed.
public enum APIKeyFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file cannot be read.
    case unreadable(path: String, reason: String)
    /// The file is not a keys file this version reads.
    case invalid(path: String, reason: String)
    /// The file cannot be written.
    case unwritable(path: String, reason: String)
    /// A key id that is empty, too long or not made of letters, digits, `.`, `_` and `-`.
    case invalidID(String)
    /// A key with this id exists already.
    case duplicateID(String)
    /// No key has this id.
    case unknownID(String)
    /// No scope was given.
    case noScopes

    public var description: String {
        switch self {
        case let .unreadable(path, reason): "Cannot read the API keys file \(path): \(reason)."
        case let .invalid(path, reason): "The API keys file \(path) is not valid: \(reason)."
        case let .unwritable(path, reason): "Cannot write the API keys file \(path): \(reason)."
        case let .invalidID(id): "Invalid key id '\(id)': use 1 to 64 letters, digits, '.', '_' or '-'."
        case let .duplicateID(id): "A key with id '\(id)' exists already; revoke it first or choose another id."
        case let .unknownID(id): "No key has id '\(id)'."
        case .noScopes: "A key needs at least one scope: score, admin."
        }
    }
}

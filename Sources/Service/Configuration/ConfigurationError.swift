/// Why the service configuration was refused at start. Every case names the file, key or
/// environment variable to change.
public enum ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The configuration file does not exist.
    case fileNotFound(path: String)
    /// The configuration file exists but cannot be read (a directory, no permission, …).
    case fileUnreadable(path: String, reason: String)
    /// The configuration file is not valid JSON.
    case invalidJSON(path: String, reason: String)
    /// The configuration file is valid JSON but not an object of keys.
    case notAnObject(path: String)
    /// The configuration file gives a key twice.
    case duplicateKey(key: String, path: String)
    /// The configuration file has a key the service does not know, perhaps misspelt.
    case unknownKey(key: String, path: String, suggestion: String?)
    /// A key's value has the wrong type or is out of range.
    case invalidValue(key: String, source: ConfigurationSource, reason: String)

    public var description: String {
        switch self {
        case let .fileNotFound(path):
            "config file \(path) does not exist; pass an existing file, or none to use the defaults"
        case let .fileUnreadable(path, reason):
            "cannot read config file \(path): \(reason)"
        case let .invalidJSON(path, reason):
            "config file \(path) is not valid JSON: \(reason)"
        case let .notAnObject(path):
            "config file \(path) must hold one JSON object of keys, like Config/inctrl.json"
        case let .duplicateKey(key, path):
            "config file \(path) gives key '\(key)' more than once; keep one"
        case let .unknownKey(key, path, suggestion):
            "config file \(path) has unknown key '\(key)'"
                + (suggestion.map { " (did you mean '\($0)'?)" } ?? "; the known keys are in Config/inctrl.json")
        case let .invalidValue(key, source, reason):
            "configuration key '\(key)' (from \(source)) \(reason)"
        }
    }
}

import Tensor

/// Why a model bundle cannot be opened or written.
public enum BundleError: Error, CustomStringConvertible {
    /// A file the bundle needs is not there.
    case missingFile(String)
    /// `config.json` is unreadable or not valid JSON of the expected shape.
    case unreadableConfig(path: String, reason: String)
    /// A config key has a value the model cannot use.
    case invalidConfig(key: String, reason: String)
    /// The weights file is damaged, or a tensor is missing or mis-shaped (the error names it).
    case tensors(SafeTensorsError)
    /// Writing the bundle failed.
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case let .missingFile(path): "model bundle file \(path) is missing"
        case let .unreadableConfig(path, reason): "cannot read model config \(path): \(reason)"
        case let .invalidConfig(key, reason): "model config key '\(key)' \(reason)"
        case let .tensors(error): "model weights: \(error)"
        case let .writeFailed(path, reason): "cannot write model bundle \(path): \(reason)"
        }
    }
}


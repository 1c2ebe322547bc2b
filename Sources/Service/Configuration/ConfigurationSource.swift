/// Where a configuration value came from, so an error can send the operator to the right
/// place to fix it.
public enum ConfigurationSource: Sendable, Equatable, CustomStringConvertible {
    /// The built-in default.
    case defaultValue
    /// A key in the JSON configuration file at `path`.
    case file(path: String)
    /// An `INCTRL_*` environment variable.
    case environment(variable: String)

    public var description: String {
        switch self {
        case .defaultValue: "the default"
        case let .file(path): "config file \(path)"
        case let .environment(variable): "environment variable \(variable)"
        }
    }
}

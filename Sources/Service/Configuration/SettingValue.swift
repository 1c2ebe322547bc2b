import HTTP1

/// A configuration value ready to print.
enum SettingValue: Equatable {
    /// Text, quoted in JSON.
    case string(String)
    /// A number or a boolean, already written as a JSON literal.
    case literal(String)

    /// The value as JSON.
    var json: String {
        switch self {
        case let .string(text): JSONText.quoted(text)
        case let .literal(literal): literal
        }
    }

    /// The value as an environment variable would hold it.
    var plain: String {
        switch self {
        case let .string(text): text
        case let .literal(literal): literal
        }
    }
}

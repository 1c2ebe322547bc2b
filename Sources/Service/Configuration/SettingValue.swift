import HTTP1
import Logging

/// A configuration value ready to print.
enum SettingValue: Equatable {
    /// Text, quoted in JSON.
    case string(String)
    /// A number, already written as a JSON number literal.
    case number(String)

    /// The value as JSON.
    var json: String {
        switch self {
        case let .string(text): JSONText.quoted(text)
        case let .number(literal): literal
        }
    }

    /// The value as an environment variable would hold it.
    var plain: String {
        switch self {
        case let .string(text): text
        case let .number(literal): literal
        }
    }
}

import HTTP1
/// A JSON value in the configuration file, kept exact enough to tell an integer from a
/// fraction and a string from a number.
enum ConfigurationFileValue: Equatable {
    case null
    case bool(Bool)
    /// A number written without fraction or exponent that fits in `Int`.
    case integer(Int)
    /// Any other number.
    case number(Double)
    case string(String)
    case array([ConfigurationFileValue])
    case object([String: ConfigurationFileValue])

    /// The value as an error message shows it.
    var shown: String {
        switch self {
        case .null: "null"
        case let .bool(bool): String(bool)
        case let .integer(integer): String(integer)
        case let .number(number): "\(number)"
        case let .string(string): "the string " + JSONText.quoted(string)
        case .array: "an array"
        case .object: "an object"
        }
    }
}


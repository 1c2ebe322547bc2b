/// Why the configuration file is not the JSON it should be.
enum ConfigurationJSONError: Error, Equatable {
    /// The text breaks the JSON grammar at `line` and `column` (both from 1, columns in bytes).
    case syntax(line: Int, column: Int, problem: String)
    /// An object holds the same key twice; readers disagree on which one wins, so neither may.
    case duplicateKey(String)
}

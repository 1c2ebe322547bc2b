import Logging

/// A value for a key, as the file or the environment gave it.
enum ConfigurationInput {
    /// A JSON value from the configuration file.
    case json(ConfigurationFileValue)
    /// The text of an environment variable.
    case text(String)
}

import Logging

/// One configuration key: its name, what it means, which values it accepts, and how to read,
/// check and print its value.
struct ConfigurationSetting: Sendable {
    /// The key in the file, snake_case.
    let key: String
    /// One sentence on what the key controls.
    let meaning: String
    /// The accepted values in words, completing "must be …" (`an integer from 0 to 65535`).
    let accepted: String
    /// Stores `input` into the configuration, or says why its type is wrong.
    let assign: @Sendable (inout ServiceConfiguration, ConfigurationInput) throws(SettingRejection) -> Void
    /// Checks the value now in the configuration is in range.
    let check: @Sendable (ServiceConfiguration) throws(SettingRejection) -> Void
    /// The value now in the configuration.
    let value: @Sendable (ServiceConfiguration) -> SettingValue

    /// The environment variable that overrides this key.
    var environmentVariable: String { ServiceConfiguration.environmentVariable(for: key) }
}

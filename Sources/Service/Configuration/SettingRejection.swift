import Logging

/// A key's value that cannot be used: how to show the offending input in an error.
struct SettingRejection: Error {
    /// The input or value as the error message quotes it (`"abc"`, `70000`, `a boolean`).
    let shown: String
}

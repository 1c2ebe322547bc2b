import HTTP1
import Foundation

extension ServiceConfiguration {
    /// One configuration key as the README documents it.
    public struct KeyDocumentation: Sendable, Equatable {
        /// The key in the configuration file.
        public let key: String
        /// The environment variable that overrides it.
        public let environmentVariable: String
        /// The default value, as an environment variable would hold it.
        public let defaultValue: String
        /// The accepted values, in words.
        public let accepted: String
        /// What the key controls.
        public let meaning: String
    }

    /// Every key, in file order, with its environment variable, default and meaning.
    public static var documentation: [KeyDocumentation] {
        let defaults = ServiceConfiguration()
        return settings.map { setting in
            KeyDocumentation(
                key: setting.key, environmentVariable: setting.environmentVariable,
                defaultValue: setting.value(defaults).plain, accepted: setting.accepted, meaning: setting.meaning)
        }
    }

    /// `documentation` as a Markdown table, for the README.
    public static var documentationTable: String {
        var lines = [
            "| key | environment variable | default | meaning |",
            "|---|---|---|---|",
        ]
        for entry in documentation {
            let cells = ["`\(entry.key)`", "`\(entry.environmentVariable)`", "`\(entry.defaultValue)`", "\(entry.meaning) Must be \(entry.accepted)."]
            lines.append("| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// This configuration as a configuration file: every key, in documentation order, one
    /// per line. `ServiceConfiguration().fileText` is `Config/inctrl.json`.
    public var fileText: String {
        let members = Self.settings.map { "  " + JSONText.quoted($0.key) + ": " + $0.value(self).json }
        return "{\n" + members.joined(separator: ",\n") + "\n}\n"
    }
}

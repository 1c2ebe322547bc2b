import HTTP1
import Logging

extension ConfigurationSetting {
    /// A key holding a whole number within `range`.
    static func integer(
        _ key: String, _ path: WritableKeyPath<ServiceConfiguration, Int> & Sendable,
        in range: ClosedRange<Int>, meaning: String
    ) -> ConfigurationSetting {
        let accepted = range.upperBound == Int.max
            ? "an integer of at least \(range.lowerBound)"
            : "an integer from \(range.lowerBound) to \(range.upperBound)"
        return ConfigurationSetting(
            key: key, meaning: meaning, accepted: accepted,
            assign: { configuration, input throws(SettingRejection) in
                switch input {
                case let .json(.integer(number)):
                    configuration[keyPath: path] = number
                case let .json(other):
                    throw SettingRejection(shown: other.shown)
                case let .text(text):
                    guard let number = ConfigurationText.integer(text) else {
                        throw SettingRejection(shown: JSONText.quoted(text))
                    }
                    configuration[keyPath: path] = number
                }
            },
            check: { configuration throws(SettingRejection) in
                let number = configuration[keyPath: path]
                guard range.contains(number) else { throw SettingRejection(shown: String(number)) }
            },
            value: { .literal(String($0[keyPath: path])) }
        )
    }

    /// Longest duration any timeout may be set to: a day is already far beyond any useful
    /// timeout, and the bound keeps deadline arithmetic far from overflow.
    static let longestDuration = 86_400.0

    /// A JSON string, or the text of an environment variable, as it is.
    private static func string(_ input: ConfigurationInput) throws(SettingRejection) -> String {
        switch input {
        case let .json(.string(text)), let .text(text): return text
        case let .json(other): throw SettingRejection(shown: other.shown)
        }
    }

    /// A JSON number, or the text of one (decimal digits, optional sign and fraction).
    private static func decimal(_ input: ConfigurationInput) throws(SettingRejection) -> Double {
        switch input {
        case let .json(.integer(value)): return Double(value)
        case let .json(.number(value)): return value
        case let .json(other): throw SettingRejection(shown: other.shown)
        case let .text(text):
            guard let value = ConfigurationText.decimal(text) else { throw SettingRejection(shown: JSONText.quoted(text)) }
            return value
        }
    }

    /// A key holding a real number within `range`.
    static func number(
        _ key: String, _ path: WritableKeyPath<ServiceConfiguration, Double> & Sendable,
        in range: ClosedRange<Double>, meaning: String
    ) -> ConfigurationSetting {
        ConfigurationSetting(
            key: key, meaning: meaning,
            accepted: "a number from \(ConfigurationText.literal(range.lowerBound)) to \(ConfigurationText.literal(range.upperBound))",
            assign: { configuration, input throws(SettingRejection) in
                configuration[keyPath: path] = try decimal(input)
            },
            check: { configuration throws(SettingRejection) in
                let number = configuration[keyPath: path]
                guard number.isFinite, range.contains(number) else { throw SettingRejection(shown: ConfigurationText.literal(number)) }
            },
            value: { .literal(ConfigurationText.literal($0[keyPath: path])) }
        )
    }

    /// A key holding a duration, written as a number of seconds (fractions allowed).
    static func seconds(
        _ key: String, _ path: WritableKeyPath<ServiceConfiguration, Duration> & Sendable,
        allowsZero: Bool = false, meaning: String
    ) -> ConfigurationSetting {
        let lowest = allowsZero ? "at least 0" : "greater than 0"
        let longest = Int(longestDuration)
        return ConfigurationSetting(
            key: key, meaning: meaning, accepted: "a number of seconds \(lowest) and at most \(longest)",
            assign: { configuration, input throws(SettingRejection) in
                let seconds = try decimal(input)
                // Bounded before it becomes a Duration, which cannot hold infinities; zero
                // is left to `check`, which knows whether this key allows it.
                guard seconds.isFinite, (0...longestDuration).contains(seconds) else {
                    throw SettingRejection(shown: ConfigurationText.literal(seconds))
                }
                configuration[keyPath: path] = .seconds(seconds)
            },
            check: { configuration throws(SettingRejection) in
                let duration = configuration[keyPath: path]
                let inRange = allowsZero ? duration >= .zero : duration > .zero
                guard inRange, duration <= .seconds(longestDuration) else {
                    throw SettingRejection(shown: ConfigurationText.literal(duration.inSeconds))
                }
            },
            value: { .literal(ConfigurationText.literal($0[keyPath: path].inSeconds)) }
        )
    }

    /// A key holding free text without control characters (they would only ever be a
    /// mistake in a host name or a path); it must not be empty unless `allowsEmpty` (an empty
    /// path then turns off what it names).
    static func text(
        _ key: String, _ path: WritableKeyPath<ServiceConfiguration, String> & Sendable, allowsEmpty: Bool = false,
        meaning: String
    ) -> ConfigurationSetting {
        ConfigurationSetting(
            key: key, meaning: meaning,
            accepted: allowsEmpty ? "a string without control characters (empty: none)" : "a non-empty string without control characters",
            assign: { configuration, input throws(SettingRejection) in
                configuration[keyPath: path] = try string(input)
            },
            check: { configuration throws(SettingRejection) in
                let text = configuration[keyPath: path]
                let hasControl = text.unicodeScalars.contains { $0.properties.generalCategory == .control }
                guard allowsEmpty || !text.isEmpty, !hasControl else { throw SettingRejection(shown: JSONText.quoted(text)) }
            },
            value: { .string($0[keyPath: path]) }
        )
    }

    /// A key holding true or false (`true`/`false` in the file, `true`/`false`/`1`/`0` in the
    /// environment).
    static func flag(
        _ key: String, _ path: WritableKeyPath<ServiceConfiguration, Bool> & Sendable, meaning: String
    ) -> ConfigurationSetting {
        ConfigurationSetting(
            key: key, meaning: meaning, accepted: "true or false",
            assign: { configuration, input throws(SettingRejection) in
                switch input {
                case let .json(.bool(value)): configuration[keyPath: path] = value
                case let .json(other): throw SettingRejection(shown: other.shown)
                case .text("true"), .text("1"): configuration[keyPath: path] = true
                case .text("false"), .text("0"): configuration[keyPath: path] = false
                case let .text(text): throw SettingRejection(shown: JSONText.quoted(text))
                }
            },
            check: { _ throws(SettingRejection) in },
            value: { .literal($0[keyPath: path] ? "true" : "false") }
        )
    }

    /// A key holding one of a fixed set of words, spelt exactly (lower case).
    static func choice<Choice: RawRepresentable & CaseIterable & Sendable>(
        _ key: String, _ path: WritableKeyPath<ServiceConfiguration, Choice> & Sendable, meaning: String
    ) -> ConfigurationSetting where Choice.RawValue == String {
        let names = Choice.allCases.map(\.rawValue)
        return ConfigurationSetting(
            key: key, meaning: meaning, accepted: "one of " + names.joined(separator: ", "),
            assign: { configuration, input throws(SettingRejection) in
                let text = try string(input)
                guard let choice = Choice(rawValue: text) else { throw SettingRejection(shown: JSONText.quoted(text)) }
                configuration[keyPath: path] = choice
            },
            check: { _ throws(SettingRejection) in },
            value: { .string($0[keyPath: path].rawValue) }
        )
    }

    /// A key naming a ``StoreLocation``: `file` or a PostgreSQL URL. A value that does not
    /// parse is shown with its password replaced, so a typo never puts a secret in the log.
    static func storeLocation(
        _ key: String, _ path: WritableKeyPath<ServiceConfiguration, String> & Sendable, meaning: String
    ) -> ConfigurationSetting {
        ConfigurationSetting(
            key: key, meaning: meaning, accepted: "file, or a URL starting postgres:// or postgresql://",
            assign: { configuration, input throws(SettingRejection) in
                configuration[keyPath: path] = try string(input)
            },
            check: { configuration throws(SettingRejection) in
                let text = configuration[keyPath: path]
                let hasControl = text.unicodeScalars.contains { $0.properties.generalCategory == .control }
                guard !hasControl, StoreLocation(text) != nil else {
                    throw SettingRejection(shown: JSONText.quoted(StoreLocation.redact(text)))
                }
            },
            value: { .string($0[keyPath: path]) }
        )
    }
}

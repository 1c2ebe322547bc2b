import HTTP1
import Logging

extension ServiceConfiguration {
    /// Every configuration key, in the order the file and the documentation list them. The
    /// one table that the file reader, the environment reader, validation and the
    /// documentation all work from, so they cannot disagree about a key.
    static let settings: [ConfigurationSetting] = [
        .text("host", \.host, meaning: "Host name or address to listen on; `0.0.0.0` or `::` for every interface."),
        .integer("port", \.port, in: 0...65535, meaning: "TCP port to listen on; 0 lets the kernel choose."),
        .text("model", \.model, meaning: "Directory of the model bundle to serve."),
        .text("data_dir", \.dataDirectory, meaning: "Directory where prompt sets are stored; created if missing."),
        .choice("precision", \.precision, meaning: "Precision of the CLIP towers' matmuls: fp32 (the reference's arithmetic) or bf16 (faster; refused at start where the CPU does not multiply bf16 natively)."),
        .integer("max_body_bytes", \.maxBodyBytes, in: 1...Int.max, meaning: "Largest request body in bytes (413 beyond)."),
        .integer("max_header_bytes", \.maxHeaderBytes, in: 1024...(1024 * 1024), meaning: "Largest request header section in bytes (431 beyond)."),
        .integer("max_connections", \.maxConnections, in: 1...Int.max, meaning: "Most client connections open at once."),
        .seconds("header_timeout_s", \.headerTimeout, meaning: "Seconds a client has to send its request headers (408 beyond)."),
        .seconds("body_timeout_s", \.bodyTimeout, meaning: "Seconds a client has to send a request body once its headers are in (408 beyond)."),
        .seconds("idle_timeout_s", \.idleTimeout, meaning: "Seconds a kept-alive connection may sit idle between requests."),
        .seconds("write_timeout_s", \.writeTimeout, meaning: "Seconds a response may wait for a client that stopped reading."),
        .seconds("shutdown_grace_s", \.shutdownGrace, allowsZero: true, meaning: "Seconds requests in flight may take to finish on shutdown."),
        .integer("queue_size", \.queueSize, in: 1...Int.max, meaning: "Most requests waiting for the model; more are refused with 429."),
        .integer("retry_after_s", \.retryAfterSeconds, in: 0...3600, meaning: "Seconds a client refused with 429 is told to wait (Retry-After)."),
        .integer("max_images_per_set", \.maxImagesPerSet, in: 1...Int.max, meaning: "Most images in one prompt set."),
        .integer("max_image_pixels", \.maxImagePixels, in: 1...Int.max, meaning: "Most pixels (width × height) an image may declare."),
        .integer("max_image_bytes", \.maxImageBytes, in: 1...Int.max, meaning: "Largest single encoded image in bytes; at most max_body_bytes."),
        .integer("max_prompt_sets", \.maxPromptSets, in: 1...Int.max, meaning: "Most prompt sets stored at once."),
        .choice("log_format", \.logFormat, meaning: "Log lines as readable text or as one JSON object per line."),
        .choice("log_level", \.logLevel, meaning: "The least severe log level written."),
    ]

    /// The environment variable that overrides `key`.
    static func environmentVariable(for key: String) -> String {
        "INCTRL_" + key.uppercased()
    }
}

/// A value for a key, as the file or the environment gave it.
enum ConfigurationInput {
    /// A JSON value from the configuration file.
    case json(ConfigurationFileValue)
    /// The text of an environment variable.
    case text(String)
}

/// A key's value that cannot be used: how to show the offending input in an error.
struct SettingRejection: Error {
    /// The input or value as the error message quotes it (`"abc"`, `70000`, `a boolean`).
    let shown: String
}

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
            value: { .number(String($0[keyPath: path])) }
        )
    }

    /// Longest duration any timeout may be set to: a day is already far beyond any useful
    /// timeout, and the bound keeps deadline arithmetic far from overflow.
    static let longestDuration = 86_400.0

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
                let seconds: Double
                switch input {
                case let .json(.integer(number)): seconds = Double(number)
                case let .json(.number(number)): seconds = number
                case let .json(other): throw SettingRejection(shown: other.shown)
                case let .text(text):
                    guard let number = ConfigurationText.decimal(text) else {
                        throw SettingRejection(shown: JSONText.quoted(text))
                    }
                    seconds = number
                }
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
            value: { .number(ConfigurationText.literal($0[keyPath: path].inSeconds)) }
        )
    }

    /// A key holding free text, which must not be empty or hold control characters (they
    /// would only ever be a mistake in a host name or a path).
    static func text(
        _ key: String, _ path: WritableKeyPath<ServiceConfiguration, String> & Sendable, meaning: String
    ) -> ConfigurationSetting {
        ConfigurationSetting(
            key: key, meaning: meaning, accepted: "a non-empty string without control characters",
            assign: { configuration, input throws(SettingRejection) in
                switch input {
                case let .json(.string(text)), let .text(text): configuration[keyPath: path] = text
                case let .json(other): throw SettingRejection(shown: other.shown)
                }
            },
            check: { configuration throws(SettingRejection) in
                let text = configuration[keyPath: path]
                let hasControl = text.unicodeScalars.contains { $0.properties.generalCategory == .control }
                guard !text.isEmpty, !hasControl else { throw SettingRejection(shown: JSONText.quoted(text)) }
            },
            value: { .string($0[keyPath: path]) }
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
                let text: String
                switch input {
                case let .json(.string(string)), let .text(string): text = string
                case let .json(other): throw SettingRejection(shown: other.shown)
                }
                guard let choice = Choice(rawValue: text) else { throw SettingRejection(shown: JSONText.quoted(text)) }
                configuration[keyPath: path] = choice
            },
            check: { _ throws(SettingRejection) in },
            value: { .string($0[keyPath: path].rawValue) }
        )
    }
}

/// Reading numbers from environment variables, strictly: decimal digits with an optional
/// minus sign and (for seconds) fraction; no spaces, exponents, hexadecimal, `inf` or `nan`.
enum ConfigurationText {
    /// `text` as a whole number: optional `-`, then decimal digits.
    static func integer(_ text: String) -> Int? {
        guard isDecimal(text, allowsFraction: false) else { return nil }
        return Int(text)
    }

    /// `text` as a decimal number: optional `-`, digits, and an optional fraction.
    static func decimal(_ text: String) -> Double? {
        guard isDecimal(text, allowsFraction: true) else { return nil }
        return Double(text)
    }

    private static func isDecimal(_ text: String, allowsFraction: Bool) -> Bool {
        var digits = Substring(text)
        if digits.first == "-" { digits = digits.dropFirst() }
        let parts = digits.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 1 || allowsFraction else { return false }
        return parts.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }
    }

    /// `number` as a JSON number literal: whole numbers without a fraction, others in the
    /// shortest form that reads back exactly.
    static func literal(_ number: Double) -> String {
        if number.isFinite, number == number.rounded(), abs(number) < 1e15 {
            return String(Int64(number))
        }
        return "\(number)"
    }
}

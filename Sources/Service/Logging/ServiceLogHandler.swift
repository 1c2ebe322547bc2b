import HTTP1
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging

/// The service's log lines: `text` (`2026-01-31T12:00:00.123Z info message key=value …`, for
/// a terminal) or `json` (one object per line, for collectors), chosen by `log_format` /
/// `INCTRL_LOG_FORMAT`. The service hands them to a ``LogWriter``, which writes them to
/// standard error from its own thread.
public struct ServiceLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let format: ServiceConfiguration.LogFormat
    private let output: @Sendable (String) -> Void

    /// A handler appending its lines to `writer`: logging then never waits for the
    /// writer's file descriptor, whichever thread logs.
    public init(label: String, format: ServiceConfiguration.LogFormat, level: Logger.Level, writer: LogWriter) {
        self.init(label: label, format: format, level: level) { line in writer.append(line) }
    }

    /// A handler writing each line to `output` (tests capture lines this way).
    public init(
        label: String, format: ServiceConfiguration.LogFormat, level: Logger.Level, output: @escaping @Sendable (String) -> Void
    ) {
        self.label = label
        self.format = format
        self.logLevel = level
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        // No merge when one side is empty; the line is one string grown in place.
        var merged: Logger.Metadata
        if metadata.isEmpty {
            merged = event.metadata ?? [:]
        } else if let explicit = event.metadata, !explicit.isEmpty {
            merged = metadata.merging(explicit) { $1 }
        } else {
            merged = metadata
        }
        // An error given beside the message is a field like the others, unless one is named so.
        if let error = event.error, merged["error"] == nil { merged["error"] = .string("\(error)") }
        let fields = merged.keys.sorted().map { (key: $0, value: merged[$0]!) }
        output(Self.line(format: format, label: label, level: event.level, message: event.message.description, fields: fields))
    }

    /// One log line in `format`, with `fields` in the order given (callers sort them by key).
    static func line(
        format: ServiceConfiguration.LogFormat, label: String, level: Logger.Level, message: String,
        fields: [(key: String, value: Logger.Metadata.Value)]
    ) -> String {
        var bytes: [UInt8] = []
        write(format: format, label: label, level: level, message: message, fields: fields, into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends one log line (without its newline) to `bytes`: the one formatter of both the
    /// handler's lines and the service's access-log lines (`AccessLog`), which skip the
    /// metadata dictionary but must look the same. Bytes rather than a `String`, because
    /// appending to a byte array skips the string's bookkeeping, and this runs for every
    /// request.
    static func write(
        format: ServiceConfiguration.LogFormat, label: String, level: Logger.Level, message: String,
        fields: [(key: String, value: Logger.Metadata.Value)], into bytes: inout [UInt8]
    ) {
        bytes.reserveCapacity(bytes.count + 64 + 40 * fields.count)
        appendLineStart(format: format, label: label, level: level, message: message, to: &bytes)
        for (key, value) in fields {
            if format == .json, key == "ts" || key == "level" || key == "logger" || key == "message" { continue }
            if case let .string(string) = value {
                appendField(key, string, format: format, to: &bytes)
            } else if format == .text {
                appendField(key, "\(value)", format: .text, to: &bytes)
            } else {
                appendKey(key, format: .json, to: &bytes)
                bytes.append(contentsOf: jsonValue(value).utf8)
            }
        }
        appendLineEnd(format: format, to: &bytes)
    }

    /// The start of a line, up to its first field: the time, the level and the message (and,
    /// in JSON, the logger's label).
    static func appendLineStart(
        format: ServiceConfiguration.LogFormat, label: String, level: Logger.Level, message: String, to bytes: inout [UInt8]
    ) {
        appendBeforeTimestamp(format: format, to: &bytes)
        appendTimestamp(to: &bytes)
        appendAfterTimestamp(format: format, label: label, level: level, message: message, to: &bytes)
    }

    /// What a line has before its timestamp: nothing in text, `{"ts":"` in JSON.
    static func appendBeforeTimestamp(format: ServiceConfiguration.LogFormat, to bytes: inout [UInt8]) {
        if format == .json { bytes.append(contentsOf: "{\"ts\":\"".utf8) }
    }

    /// What a line has between its timestamp and its first field.
    static func appendAfterTimestamp(
        format: ServiceConfiguration.LogFormat, label: String, level: Logger.Level, message: String, to bytes: inout [UInt8]
    ) {
        func put(_ text: String) { bytes.append(contentsOf: text.utf8) }
        switch format {
        case .text:
            bytes.append(0x20)
            put(level.rawValue)
            bytes.append(0x20)
            put(message)
        case .json:
            put("\",\"level\":")
            JSONText.appendQuoted(level.rawValue, to: &bytes)
            put(",\"logger\":")
            JSONText.appendQuoted(label, to: &bytes)
            put(",\"message\":")
            JSONText.appendQuoted(message, to: &bytes)
        }
    }

    /// One field with a string value: ` key=value` in text (the value quoted as JSON when it
    /// holds a space, a quote or an equals sign), `,"key":"value"` in JSON. The caller leaves
    /// out the JSON keys of the line's start (`ts`, `level`, `logger`, `message`).
    static func appendField(_ key: String, _ value: String, format: ServiceConfiguration.LogFormat, to bytes: inout [UInt8]) {
        appendKey(key, format: format, to: &bytes)
        appendValue(value, format: format, to: &bytes)
    }

    /// What a field has before its value: ` key=` in text, `,"key":` in JSON.
    static func appendKey(_ key: String, format: ServiceConfiguration.LogFormat, to bytes: inout [UInt8]) {
        switch format {
        case .text:
            bytes.append(0x20)
            bytes.append(contentsOf: key.utf8)
            bytes.append(UInt8(ascii: "="))
        case .json:
            bytes.append(UInt8(ascii: ","))
            JSONText.appendQuoted(key, to: &bytes)
            bytes.append(UInt8(ascii: ":"))
        }
    }

    /// A field's string value: in text as it is, or quoted as JSON when it holds a space, a
    /// quote or an equals sign; in JSON always quoted.
    static func appendValue(_ value: String, format: ServiceConfiguration.LogFormat, to bytes: inout [UInt8]) {
        switch format {
        case .text:
            // The value's bytes in one contiguous run (every native string has one): a plain
            // scan for the three bytes that need quoting, then one copy.
            let copied: Bool? = value.utf8.withContiguousStorageIfAvailable { utf8 in
                guard !utf8.contains(where: needsQuotingInText) else { return false }
                bytes.append(contentsOf: utf8)
                return true
            }
            if copied != true {
                if value.utf8.contains(where: needsQuotingInText) {
                    JSONText.appendQuoted(value, to: &bytes)
                } else {
                    bytes.append(contentsOf: value.utf8)
                }
            }
        case .json:
            JSONText.appendQuoted(value, to: &bytes)
        }
    }

    /// Whether a text value holding `byte` (a space, a quote or an equals sign) is quoted.
    private static func needsQuotingInText(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x22 || byte == 0x3D
    }

    /// A field's value that is digits (and a point), which `write` appends: the bytes
    /// ``appendValue(_:format:to:)`` writes for the same text, which never needs quoting in
    /// text nor escaping in JSON, without the text being made a `String` first.
    static func appendNumericValue(format: ServiceConfiguration.LogFormat, to bytes: inout [UInt8], _ write: (inout [UInt8]) -> Void) {
        if format == .json { bytes.append(UInt8(ascii: "\"")) }
        write(&bytes)
        if format == .json { bytes.append(UInt8(ascii: "\"")) }
    }

    /// The end of a line (its newline is the writer's).
    static func appendLineEnd(format: ServiceConfiguration.LogFormat, to bytes: inout [UInt8]) {
        if format == .json { bytes.append(UInt8(ascii: "}")) }
    }

    /// Appends `2026-01-31T12:00:00.123Z` (UTC), formatted by hand: Foundation's formatters
    /// cost several microseconds each, and this runs for every request. The calendar date
    /// comes from `LogText.CivilTime`, which gives what `gmtime_r` gives without its call.
    static func appendTimestamp(to bytes: inout [UInt8]) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        appendTimestamp(secondsSince1970: now.tv_sec, milliseconds: now.tv_nsec / 1_000_000, to: &bytes)
    }

    /// Appends the timestamp of `milliseconds` past `seconds` since 1970, as lines carry it:
    /// its 24 bytes are written in place, then appended at once.
    static func appendTimestamp(secondsSince1970 seconds: Int, milliseconds: Int, to bytes: inout [UInt8]) {
        let time = LogText.CivilTime(secondsSince1970: seconds)
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { text in
            var position = 0
            // Each field right-aligned in its width with leading zeros, then its separator.
            func put(_ value: Int, _ width: Int, _ separator: Unicode.Scalar) {
                var remaining = value
                for offset in stride(from: width - 1, through: 0, by: -1) {
                    text[position + offset] = UInt8(ascii: "0") + UInt8(remaining % 10)
                    remaining /= 10
                }
                text[position + width] = UInt8(ascii: separator)
                position += width + 1
            }
            put(time.year, 4, "-")
            put(time.month, 2, "-")
            put(time.day, 2, "T")
            put(time.hour, 2, ":")
            put(time.minute, 2, ":")
            put(time.second, 2, ".")
            put(milliseconds, 3, "Z")
            bytes.append(contentsOf: UnsafeBufferPointer(text))
        }
    }

    private static func jsonValue(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case let .string(text): JSONText.quoted(text)
        case let .stringConvertible(convertible):
            if let number = convertible as? any BinaryInteger { "\(number)" }
            else if let number = convertible as? Double, number.isFinite { "\(number)" }
            else if let flag = convertible as? Bool { flag ? "true" : "false" }
            else { JSONText.quoted(convertible.description) }
        case let .array(items): "[" + items.map(jsonValue).joined(separator: ",") + "]"
        case let .dictionary(map):
            "{" + map.keys.sorted().map { "\(JSONText.quoted($0)):\(jsonValue(map[$0]!))" }.joined(separator: ",") + "}"
        }
    }
}

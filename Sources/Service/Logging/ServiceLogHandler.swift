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

    public func log(
        level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?,
        source: String, file: String, function: String, line: UInt
    ) {
        // No merge when one side is empty; the line is one string grown in place.
        let merged: Logger.Metadata
        if metadata.isEmpty {
            merged = explicit ?? [:]
        } else if let explicit, !explicit.isEmpty {
            merged = metadata.merging(explicit) { $1 }
        } else {
            merged = metadata
        }
        let fields = merged.keys.sorted().map { (key: $0, value: merged[$0]!) }
        output(Self.line(format: format, label: label, level: level, message: message.description, fields: fields))
    }

    /// One log line in `format`, with `fields` in the order given (callers sort them by key).
    /// The one formatter of both the handler's lines and the service's access-log lines
    /// (`AccessLog`), which skip the metadata dictionary but must look the same.
    static func line(
        format: ServiceConfiguration.LogFormat, label: String, level: Logger.Level, message: String,
        fields: [(key: String, value: Logger.Metadata.Value)]
    ) -> String {
        var text = ""
        text.reserveCapacity(64 + 40 * fields.count)
        switch format {
        case .text:
            Self.appendTimestamp(to: &text)
            text += " "
            text += level.rawValue
            text += " "
            text += message
            for (key, value) in fields {
                text += " "
                text += key
                text += "="
                Self.appendTextValue(value, to: &text)
            }
        case .json:
            text += "{\"ts\":\""
            Self.appendTimestamp(to: &text)
            text += "\",\"level\":"
            text += JSONText.quoted(level.rawValue)
            text += ",\"logger\":"
            text += JSONText.quoted(label)
            text += ",\"message\":"
            text += JSONText.quoted(message)
            for (key, value) in fields where key != "ts" && key != "level" && key != "logger" && key != "message" {
                text += ","
                text += JSONText.quoted(key)
                text += ":"
                text += Self.jsonValue(value)
            }
            text += "}"
        }
        return text
    }

    /// Appends `2026-01-31T12:00:00.123Z` (UTC), formatted by hand: Foundation's formatters
    /// cost several microseconds each, and this runs for every request.
    private static func appendTimestamp(to text: inout String) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        text += String(unsafeUninitializedCapacity: 24) { buffer in
            var index = 0
            // Each field right-aligned in its width with leading zeros, then its separator.
            func put(_ value: Int, _ width: Int, _ separator: Unicode.Scalar) {
                var remaining = value
                for position in stride(from: width - 1, through: 0, by: -1) {
                    buffer[index + position] = UInt8(ascii: "0") + UInt8(remaining % 10)
                    remaining /= 10
                }
                buffer[index + width] = UInt8(ascii: separator)
                index += width + 1
            }
            put(Int(parts.tm_year) + 1900, 4, "-")
            put(Int(parts.tm_mon) + 1, 2, "-")
            put(Int(parts.tm_mday), 2, "T")
            put(Int(parts.tm_hour), 2, ":")
            put(Int(parts.tm_min), 2, ":")
            put(Int(parts.tm_sec), 2, ".")
            put(now.tv_nsec / 1_000_000, 3, "Z")
            return index
        }
    }

    /// Appends `value`, quoted as JSON when it holds a space, a quote or an equals sign.
    private static func appendTextValue(_ value: Logger.Metadata.Value, to text: inout String) {
        let plain: String
        if case let .string(string) = value { plain = string } else { plain = "\(value)" }
        if plain.utf8.contains(where: { $0 == 0x20 || $0 == 0x22 || $0 == 0x3D }) {
            text += JSONText.quoted(plain)
        } else {
            text += plain
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

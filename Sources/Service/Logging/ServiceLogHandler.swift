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
        let merged = metadata.merging(explicit ?? [:]) { $1 }
        let timestamp = Self.timestamp()
        switch format {
        case .text:
            var text = "\(timestamp) \(level) \(message)"
            for key in merged.keys.sorted() { text += " \(key)=\(Self.textValue(merged[key]!))" }
            output(text)
        case .json:
            var fields = [
                "\"ts\":\(JSONText.quoted(timestamp))", "\"level\":\(JSONText.quoted(level.rawValue))",
                "\"logger\":\(JSONText.quoted(label))", "\"message\":\(JSONText.quoted(message.description))",
            ]
            for key in merged.keys.sorted() where !["ts", "level", "logger", "message"].contains(key) {
                fields.append("\(JSONText.quoted(key)):\(Self.jsonValue(merged[key]!))")
            }
            output("{" + fields.joined(separator: ",") + "}")
        }
    }

    /// `2026-01-31T12:00:00.123Z` (UTC), formatted by hand: this runs for every request's
    /// access-log line, and Foundation's formatters cost several microseconds each.
    private static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func digits(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return digits(Int(parts.tm_year) + 1900, 4) + "-" + digits(Int(parts.tm_mon) + 1, 2) + "-" + digits(Int(parts.tm_mday), 2)
            + "T" + digits(Int(parts.tm_hour), 2) + ":" + digits(Int(parts.tm_min), 2) + ":" + digits(Int(parts.tm_sec), 2)
            + "." + digits(now.tv_nsec / 1_000_000, 3) + "Z"
    }

    private static func textValue(_ value: Logger.Metadata.Value) -> String {
        let text = "\(value)"
        return text.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" }) ? JSONText.quoted(text) : text
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

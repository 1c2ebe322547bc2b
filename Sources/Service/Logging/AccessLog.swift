import Logging

/// One access-log line per request (message `request`, at `info`).
///
/// With a ``LogWriter`` — as `inctrl serve` runs — the line is written field by field in key
/// order with ``ServiceLogHandler``'s pieces and appended to the writer directly, carrying the
/// logger's label: the same line the logger would write, without building and sorting a
/// metadata dictionary of ten interpolated strings on every request (that had halved the rate
/// of `GET /healthz`), nor an array of metadata values. Without a writer (tests capturing lines), the
/// line goes through the logger as any other.
struct AccessLog: Sendable {
    /// What one request's line says.
    struct Entry {
        var requestID: String
        var method: String
        var path: String
        var route: String
        var status: Int
        /// Milliseconds, rounded to a tenth.
        var milliseconds: Double
        var bytesIn: Int
        var bytesOut: Int
        var remote: String
        var keyID: String
    }

    private let logger: Logger
    private let writer: LogWriter?
    private let format: ServiceConfiguration.LogFormat

    init(logger: Logger, writer: LogWriter?, format: ServiceConfiguration.LogFormat) {
        self.logger = logger
        self.writer = writer
        self.format = format
    }

    func record(_ entry: Entry) {
        guard logger.logLevel <= .info else { return }
        guard let writer else {
            logger.info("request", metadata: Logger.Metadata(uniqueKeysWithValues: Self.fields(of: entry)))
            return
        }
        var line: [UInt8] = []
        Self.write(entry, format: format, label: logger.label, into: &line)
        writer.append(line: line)
    }

    /// The entry's line, as ``ServiceLogHandler/write(format:label:level:message:fields:into:)``
    /// writes it from ``fields(of:)``, field by field without the array of metadata values.
    static func write(_ entry: Entry, format: ServiceConfiguration.LogFormat, label: String, into line: inout [UInt8]) {
        line.reserveCapacity(line.count + 256 + entry.path.utf8.count)
        ServiceLogHandler.appendLineStart(format: format, label: label, level: .info, message: "request", to: &line)
        func field(_ key: String, _ value: String) { ServiceLogHandler.appendField(key, value, format: format, to: &line) }
        field("bytes_in", String(entry.bytesIn))
        field("bytes_out", String(entry.bytesOut))
        field("key", entry.keyID)
        field("method", entry.method)
        field("ms", String(describing: entry.milliseconds))
        field("path", entry.path)
        field("remote", entry.remote)
        field("request_id", entry.requestID)
        field("route", entry.route)
        field("status", String(entry.status))
        ServiceLogHandler.appendLineEnd(format: format, to: &line)
    }

    /// The entry's fields, sorted by key as the handler sorts metadata.
    static func fields(of entry: Entry) -> [(key: String, value: Logger.Metadata.Value)] {
        [
            ("bytes_in", .string(String(entry.bytesIn))), ("bytes_out", .string(String(entry.bytesOut))),
            ("key", .string(entry.keyID)), ("method", .string(entry.method)),
            ("ms", .string(String(describing: entry.milliseconds))), ("path", .string(entry.path)),
            ("remote", .string(entry.remote)), ("request_id", .string(entry.requestID)),
            ("route", .string(entry.route)), ("status", .string(String(entry.status))),
        ]
    }
}

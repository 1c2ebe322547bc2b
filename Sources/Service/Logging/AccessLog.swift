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
    /// The parts of every line that do not change, written once by ``ServiceLogHandler``.
    private let pieces: Pieces

    /// The bytes of a line around its timestamp and field values, in the log's format: the
    /// handler's own output for the logger's label, level `info` and message `request`. They
    /// are kept in one array, so writing a line copies from one buffer.
    struct Pieces: Sendable {
        /// Before the timestamp, after it, each field's key (as written before its value, in
        /// key order), and the line's end, one after another.
        private(set) var bytes: [UInt8] = []
        /// Where each of those pieces lies in `bytes`, in that order.
        private(set) var ranges: [Range<Int>] = []

        /// The keys, in the order ``fields(of:)`` gives them.
        static let keyNames = ["bytes_in", "bytes_out", "key", "method", "ms", "path", "remote", "request_id", "route", "status"]

        init(format: ServiceConfiguration.LogFormat, label: String) {
            func piece(_ write: (inout [UInt8]) -> Void) {
                let start = bytes.count
                write(&bytes)
                ranges.append(start..<bytes.count)
            }
            piece { ServiceLogHandler.appendBeforeTimestamp(format: format, to: &$0) }
            piece { ServiceLogHandler.appendAfterTimestamp(format: format, label: label, level: .info, message: "request", to: &$0) }
            for key in Self.keyNames {
                piece { ServiceLogHandler.appendKey(key, format: format, to: &$0) }
            }
            piece { ServiceLogHandler.appendLineEnd(format: format, to: &$0) }
        }
    }

    init(logger: Logger, writer: LogWriter?, format: ServiceConfiguration.LogFormat) {
        self.logger = logger
        self.writer = writer
        self.format = format
        pieces = Pieces(format: format, label: logger.label)
    }

    func record(_ entry: borrowing Entry) {
        guard logger.logLevel <= .info else { return }
        guard let writer else {
            logger.info("request", metadata: Logger.Metadata(uniqueKeysWithValues: Self.fields(of: entry)))
            return
        }
        var line: [UInt8] = []
        Self.write(entry, format: format, pieces: pieces, into: &line)
        writer.append(line: line)
    }

    /// The entry's line, as ``ServiceLogHandler/write(format:label:level:message:fields:into:)``
    /// writes it from ``fields(of:)``: the unchanging parts copied from `pieces`, the
    /// timestamp and numbers written as digits straight into the line (`LogText`), and the
    /// text values as the handler writes them.
    static func write(_ entry: borrowing Entry, format: ServiceConfiguration.LogFormat, pieces: Pieces, into line: inout [UInt8]) {
        line.reserveCapacity(line.count + 256 + entry.path.utf8.count)
        // Straight-line code, the closures given numbers only: a closure capturing the entry
        // copied it.
        let (bytesIn, bytesOut, milliseconds, status) = (entry.bytesIn, entry.bytesOut, entry.milliseconds, entry.status)
        pieces.bytes.withUnsafeBufferPointer { bytes in
            pieces.ranges.withUnsafeBufferPointer { ranges in
                var next = 0
                appendPiece(&next, bytes, ranges, to: &line)
                ServiceLogHandler.appendTimestamp(to: &line)
                appendPiece(&next, bytes, ranges, to: &line)
                appendPiece(&next, bytes, ranges, to: &line)
                ServiceLogHandler.appendNumericValue(format: format, to: &line) { LogText.appendDecimal(bytesIn, to: &$0) }
                appendPiece(&next, bytes, ranges, to: &line)
                ServiceLogHandler.appendNumericValue(format: format, to: &line) { LogText.appendDecimal(bytesOut, to: &$0) }
                appendPiece(&next, bytes, ranges, to: &line)
                ServiceLogHandler.appendValue(entry.keyID, format: format, to: &line)
                appendPiece(&next, bytes, ranges, to: &line)
                ServiceLogHandler.appendValue(entry.method, format: format, to: &line)
                appendPiece(&next, bytes, ranges, to: &line)
                ServiceLogHandler.appendNumericValue(format: format, to: &line) { LogText.appendTenths(milliseconds, to: &$0) }
                appendPiece(&next, bytes, ranges, to: &line)
                ServiceLogHandler.appendValue(entry.path, format: format, to: &line)
                appendPiece(&next, bytes, ranges, to: &line)
                ServiceLogHandler.appendValue(entry.remote, format: format, to: &line)
                appendPiece(&next, bytes, ranges, to: &line)
                ServiceLogHandler.appendValue(entry.requestID, format: format, to: &line)
                appendPiece(&next, bytes, ranges, to: &line)
                ServiceLogHandler.appendValue(entry.route, format: format, to: &line)
                appendPiece(&next, bytes, ranges, to: &line)
                ServiceLogHandler.appendNumericValue(format: format, to: &line) { LogText.appendDecimal(status, to: &$0) }
                appendPiece(&next, bytes, ranges, to: &line)
            }
        }
    }

    /// Appends piece `next` of `bytes` (its range in `ranges`) and moves on to the next.
    private static func appendPiece(
        _ next: inout Int, _ bytes: UnsafeBufferPointer<UInt8>, _ ranges: UnsafeBufferPointer<Range<Int>>, to line: inout [UInt8]
    ) {
        line.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[ranges[next]]))
        next += 1
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

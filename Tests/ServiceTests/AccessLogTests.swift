import Foundation
import Logging
import Synchronization
import Testing
@testable import Service

/// The access log's direct path (straight to the writer) writes the very line the logger
/// would, in both formats, and honours the level.
struct AccessLogTests {
    static let entry = AccessLog.Entry(
        requestID: "a1b2-0001", method: "POST", path: "/score?x=\"a b\"", route: "/score", status: 429,
        milliseconds: 12.3, bytesIn: 123_456, bytesOut: 97, remote: "127.0.0.1:5000", keyID: "qa-admin")

    /// A line without its timestamp, which differs between two lines written a moment apart.
    static func untimed(_ line: String, _ format: ServiceConfiguration.LogFormat) -> String {
        switch format {
        case .text: String(line.drop(while: { $0 != " " }))
        case .json: line.replacing(#/"ts":"[^"]*"/#, with: "")
        }
    }

    @Test(arguments: [ServiceConfiguration.LogFormat.text, .json])
    func theDirectLineIsTheLoggersLine(format: ServiceConfiguration.LogFormat) throws {
        let file = try LogWriterTests.LogFile()
        let writer = LogWriter(fileDescriptor: file.descriptor)
        let viaWriter = Logger(label: "inctrl") { label in
            ServiceLogHandler(label: label, format: format, level: .info, writer: writer)
        }
        AccessLog(logger: viaWriter, writer: writer, format: format).record(Self.entry)
        writer.flush()
        let direct = try #require(file.lines.first)

        let captured = Mutex<[String]>([])
        let viaLogger = Logger(label: "inctrl") { label in
            ServiceLogHandler(label: label, format: format, level: .info) { line in captured.withLock { $0.append(line) } }
        }
        AccessLog(logger: viaLogger, writer: nil, format: format).record(Self.entry)
        let logged = try #require(captured.withLock { $0.first })

        #expect(Self.untimed(direct, format) == Self.untimed(logged, format))
        if format == .text {
            #expect(Self.untimed(direct, format) == #" info request bytes_in=123456 bytes_out=97 key=qa-admin method=POST ms=12.3 path="/score?x=\"a b\"" remote=127.0.0.1:5000 request_id=a1b2-0001 route=/score status=429"#)
        } else {
            #expect(Self.untimed(direct, format) == #"{,"level":"info","logger":"inctrl","message":"request","bytes_in":"123456","bytes_out":"97","key":"qa-admin","method":"POST","ms":"12.3","path":"/score?x=\"a b\"","remote":"127.0.0.1:5000","request_id":"a1b2-0001","route":"/score","status":"429"}"#)
        }
    }

    /// Entries whose values need quoting or escaping, or are empty, long or not ASCII, and
    /// durations of every size: the direct line is still the logger's line.
    @Test(arguments: [ServiceConfiguration.LogFormat.text, .json])
    func oddEntriesGiveTheLoggersLineToo(format: ServiceConfiguration.LogFormat) throws {
        var entries: [AccessLog.Entry] = []
        for (index, milliseconds) in [0.0, 0.1, 7, 999_999.9, 1_000_000, 12_345_678.9, 1e17].enumerated() {
            var entry = Self.entry
            entry.milliseconds = milliseconds
            entry.status = [200, 404, 0, 1000, -1, 503, 99][index]
            entry.bytesIn = [0, 1, 9, 10, Int.max, 1 << 40, 12][index]
            entry.path = ["/", "/a=b", "/caf\u{e9}", "/x\u{1}\ty", "", String(repeating: "/long", count: 40), #"/q\"\\"#][index]
            entry.keyID = ["-", "", "key with space", "k", "k=v", "\"", "é"][index]
            entry.remote = ["-", "[::1]:443", "127.0.0.1:1", "10.0.0.1:65535", "r", "r", "r"][index]
            entries.append(entry)
        }
        for entry in entries {
            let file = try LogWriterTests.LogFile()
            let writer = LogWriter(fileDescriptor: file.descriptor)
            let viaWriter = Logger(label: "inctrl.http") { label in
                ServiceLogHandler(label: label, format: format, level: .info, writer: writer)
            }
            AccessLog(logger: viaWriter, writer: writer, format: format).record(entry)
            writer.flush()
            let direct = try #require(file.lines.first)
            let captured = Mutex<[String]>([])
            let viaLogger = Logger(label: "inctrl.http") { label in
                ServiceLogHandler(label: label, format: format, level: .info) { line in captured.withLock { $0.append(line) } }
            }
            AccessLog(logger: viaLogger, writer: nil, format: format).record(entry)
            let logged = try #require(captured.withLock { $0.first })
            #expect(Self.untimed(direct, format) == Self.untimed(logged, format))
        }
    }

    /// The line's keys are the logger's field names, in the same order.
    @Test func theKeysAreTheFieldsKeys() {
        #expect(AccessLog.Pieces.keyNames == AccessLog.fields(of: Self.entry).map(\.key))
    }

    @Test func nothingIsWrittenBelowTheLoggersLevel() throws {
        let file = try LogWriterTests.LogFile()
        let writer = LogWriter(fileDescriptor: file.descriptor)
        let logger = Logger(label: "inctrl") { label in
            ServiceLogHandler(label: label, format: .text, level: .warning, writer: writer)
        }
        AccessLog(logger: logger, writer: writer, format: .text).record(Self.entry)
        writer.flush()
        #expect(file.lines.isEmpty)
    }
}

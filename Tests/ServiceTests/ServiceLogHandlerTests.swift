import Foundation
import Logging
import Synchronization
import Testing
@testable import Service

/// The log line formats: the hand-made UTC timestamp, sorted metadata, quoting in text, and
/// JSON objects whose reserved keys the metadata cannot override.
struct ServiceLogHandlerTests {
    static func line(_ format: ServiceConfiguration.LogFormat, handlerMetadata: Logger.Metadata = [:], _ metadata: Logger.Metadata) -> String {
        let lines = Mutex<[String]>([])
        var handler = ServiceLogHandler(label: "test", format: format, level: .info) { line in lines.withLock { $0.append(line) } }
        handler.metadata = handlerMetadata
        handler.log(event: LogEvent(level: .info, message: "hello", metadata: metadata, source: "s", file: "f", function: "g", line: 1))
        return lines.withLock { $0.first ?? "" }
    }

    /// An error given beside the message becomes the `error` field, unless the metadata
    /// already names one.
    @Test func anErrorBesideTheMessageIsAField() {
        struct Broken: Error, CustomStringConvertible { var description: String { "disk full" } }
        let lines = Mutex<[String]>([])
        let handler = ServiceLogHandler(label: "test", format: .json, level: .info) { line in lines.withLock { $0.append(line) } }
        for metadata: Logger.Metadata in [[:], ["error": "given"]] {
            handler.log(event: LogEvent(
                level: .error, message: "write failed", error: Broken(), metadata: metadata, source: "s", file: "f", function: "g", line: 1))
        }
        let written = lines.withLock { $0 }
        #expect(written.count == 2)
        #expect(written.first?.hasSuffix(#","error":"disk full"}"#) == true)
        #expect(written.last?.hasSuffix(#","error":"given"}"#) == true)
    }

    @Test func textLinesHaveAUTCTimestampAndSortedQuotedMetadata() throws {
        let before = Date()
        let text = Self.line(.text, handlerMetadata: ["b": "2"], ["a": "x y", "c": "3", "b": "override"])
        let pattern = #/^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})Z info hello a="x y" b=override c=3$/#
        let match = try #require(text.wholeMatch(of: pattern), "\(text)")
        var parts = DateComponents()
        (parts.year, parts.month, parts.day) = (Int(match.1), Int(match.2), Int(match.3))
        (parts.hour, parts.minute, parts.second) = (Int(match.4), Int(match.5), Int(match.6))
        parts.nanosecond = Int(match.7)! * 1_000_000
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let stamped = try #require(calendar.date(from: parts))
        #expect(stamped.timeIntervalSince(before) > -0.002 && stamped.timeIntervalSince(Date()) <= 0.001)
    }

    @Test func jsonLinesKeepTheirReservedKeys() throws {
        let json = Self.line(.json, ["message": "spoofed", "n": .stringConvertible(5), "path": "/a \"b\""])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object["message"] as? String == "hello" && object["level"] as? String == "info" && object["logger"] as? String == "test")
        #expect(object["n"] as? Int == 5 && object["path"] as? String == "/a \"b\"")
        #expect((object["ts"] as? String)?.wholeMatch(of: #/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/#) != nil)
    }
}

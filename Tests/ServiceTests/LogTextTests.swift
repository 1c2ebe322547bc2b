import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import Service

/// The access log's hand-written numbers and times are the very text of the slower ways
/// they replace: `String(_:)`, `String(describing:)` of a duration and `gmtime_r`.
struct LogTextTests {
    static func decimal(_ value: Int) -> String {
        var bytes: [UInt8] = []
        LogText.appendDecimal(value, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    static func tenths(_ value: Double) -> String {
        var bytes: [UInt8] = []
        LogText.appendTenths(value, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func integersAreWrittenAsStringWritesThem() {
        var values = Array(-20...20_000) + [Int.max, Int.min, Int.max - 1, Int.min + 1, 1 << 40, 999_999_999_999]
        for power in 0...18 {
            let exact = Int(pow(10.0, Double(power)))
            values += [exact - 1, exact, exact + 1]
        }
        for value in values {
            #expect(Self.decimal(value) == String(value), "\(value)")
        }
    }

    /// Every value `instrumented` can log below 10 s, then a sample up to 2000 s and beyond,
    /// rounded as the access log rounds them. The checks run in slices with a yield between
    /// them: these tests share the cooperative pool with the suites' servers.
    @Test func millisecondsAreWrittenAsStringDescribingWritesThem() async {
        var mismatches: [Double] = []
        func check(_ milliseconds: Double) {
            if Self.tenths(milliseconds) != String(describing: milliseconds) { mismatches.append(milliseconds) }
        }
        for slice in 0..<10 {
            for tenths in (slice * 10_000)..<((slice + 1) * 10_000) { check(Double(tenths) / 10) }
            await Task.yield()
        }
        for tenths in stride(from: 100_000, to: 20_000_000, by: 997) { check(Double(tenths) / 10) }
        await Task.yield()
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let seconds = Double.random(in: 0..<2_000, using: &generator)
            check((seconds * 10_000).rounded() / 10)
        }
        for odd in [0.05, 0.123, 1e-7, 999_999.95, 1e6, 1e15, 1e17, -0.0, -1.5, .infinity, .nan, .greatestFiniteMagnitude] {
            check(odd)
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
    }

    /// Every day from 1902 to 2106 (midnight and the last second), and random moments in
    /// between, against the C library's `gmtime_r`.
    @Test func civilTimeIsWhatGmtimeGives() async {
        func gmtime(_ seconds: Int) -> LogText.CivilTime {
            var copy = seconds
            var parts = tm()
            gmtime_r(&copy, &parts)
            var time = LogText.CivilTime(secondsSince1970: 0)
            (time.year, time.month, time.day) = (Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday))
            (time.hour, time.minute, time.second) = (Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
            return time
        }
        var mismatches: [Int] = []
        func check(_ seconds: Int) {
            if LogText.CivilTime(secondsSince1970: seconds) != gmtime(seconds) { mismatches.append(seconds) }
        }
        for day in -25_000...50_000 {
            check(day * 86_400)
            check(day * 86_400 + 86_399)
            if day % 10_000 == 0 { await Task.yield() }
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 { check(Int.random(in: -2_000_000_000...4_000_000_000, using: &generator)) }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
    }

    /// The line's timestamp for a moment read from the clock, against the same moment
    /// formatted by Foundation in UTC.
    @Test func timestampsMatchFoundationsUTCText() {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"
        for seconds in [0, 951_782_400, 1_709_164_799, 1_769_860_800, 4_102_444_799] {
            for milliseconds in [0, 7, 999] {
                var bytes: [UInt8] = []
                ServiceLogHandler.appendTimestamp(secondsSince1970: seconds, milliseconds: milliseconds, to: &bytes)
                let expected = formatter.string(from: Date(timeIntervalSince1970: Double(seconds) + Double(milliseconds) / 1000 + 0.0001))
                #expect(String(decoding: bytes, as: UTF8.self) == expected)
            }
        }
    }

    /// Text values are quoted exactly when they hold a space, a quote or an equals sign,
    /// whether the string is small (held inline) or large.
    @Test func textValuesAreQuotedWhenTheyMustBe() {
        for (value, written) in [
            ("plain", "plain"), ("a b", #""a b""#), ("a=b", #""a=b""#), (#"say "hi""#, #""say \"hi\"""#),
            ("", ""), ("/prompts/long-enough-to-live-on-the-heap", "/prompts/long-enough-to-live-on-the-heap"),
            ("/prompts/long enough to live on the heap", #""/prompts/long enough to live on the heap""#), ("é", "é"),
        ] {
            var bytes: [UInt8] = []
            ServiceLogHandler.appendField("k", value, format: .text, to: &bytes)
            #expect(String(decoding: bytes, as: UTF8.self) == " k=" + written)
        }
    }
}

/// The pieces of a log line that are numbers or times, written straight into the line's
/// bytes: every request's access-log line has three integers, a duration and a timestamp,
/// and going through `String(_:)` or `gmtime_r` for each cost more than the rest of the line.
/// Each writes exactly the text its slower counterpart would (the tests compare them).
enum LogText {
    /// Appends `value` in decimal, as `String(value)` writes it.
    static func appendDecimal(_ value: Int, to bytes: inout [UInt8]) {
        guard value >= 0 else {
            bytes.append(contentsOf: String(value).utf8)
            return
        }
        var divisor = 1
        while divisor <= value / 10 { divisor *= 10 }
        var remaining = value
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: remaining / divisor))
            remaining %= divisor
            divisor /= 10
        }
    }

    /// Appends `value`, a duration already rounded to a tenth, as `String(describing: value)`
    /// writes it (`0.0`, `12.3`, `1500.0`). Values in `0..<1_000_000` whose closest tenth is
    /// exactly them are written digit by digit: their shortest round-trip text is `q.r`.
    /// Anything else (larger, negative or -0.0, not a tenth) goes through `String(describing:)`.
    static func appendTenths(_ value: Double, to bytes: inout [UInt8]) {
        if value.sign == .plus, value < 1_000_000 {
            let tenths = Int((value * 10).rounded())
            if Double(tenths) / 10 == value {
                appendDecimal(tenths / 10, to: &bytes)
                bytes.append(UInt8(ascii: "."))
                bytes.append(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: tenths % 10))
                return
            }
        }
        bytes.append(contentsOf: String(describing: value).utf8)
    }

    /// A UTC calendar time, as `gmtime_r` gives it, from seconds since 1970 (negative before).
    struct CivilTime: Equatable {
        var year: Int
        /// 1–12.
        var month: Int
        /// 1–31.
        var day: Int
        var hour: Int
        var minute: Int
        var second: Int

        /// The proleptic Gregorian date and time of `seconds` since 1970-01-01T00:00:00Z, by
        /// the days-from-civil inversion: no library call, no lock, no time-zone lookup.
        init(secondsSince1970 seconds: Int) {
            var days = seconds / 86_400
            var secondOfDay = seconds % 86_400
            if secondOfDay < 0 {
                secondOfDay += 86_400
                days -= 1
            }
            hour = secondOfDay / 3600
            minute = secondOfDay % 3600 / 60
            second = secondOfDay % 60
            // Days since 0000-03-01, counted in 400-year eras of 146 097 days each.
            let shifted = days + 719_468
            let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
            let dayOfEra = shifted - era * 146_097
            let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
            let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
            let marchMonth = (5 * dayOfYear + 2) / 153
            day = dayOfYear - (153 * marchMonth + 2) / 5 + 1
            month = marchMonth < 10 ? marchMonth + 3 : marchMonth - 9
            year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        }
    }
}

import Glibc

/// The `Date` header's IMF-fixdate (RFC 9110 §5.6.7): `Sun, 06 Nov 1994 08:49:37 GMT`.
enum HTTPDate {
    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// The IMF-fixdate for a number of seconds since the Unix epoch.
    static func imfFixdate(secondsSinceEpoch: Int) -> String {
        var seconds = time_t(secondsSinceEpoch)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func twoDigits(_ value: Int32) -> String {
            value < 10 ? "0\(value)" : "\(value)"
        }
        return "\(weekdays[Int(parts.tm_wday)]), \(twoDigits(parts.tm_mday)) \(months[Int(parts.tm_mon)]) "
            + "\(parts.tm_year + 1900) \(twoDigits(parts.tm_hour)):\(twoDigits(parts.tm_min)):\(twoDigits(parts.tm_sec)) GMT"
    }

    /// The current time in whole seconds since the epoch.
    static func currentSecond() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int(now.tv_sec)
    }
}

/// The formatted `Date` value, recomputed at most once a second: formatting on every
/// response would cost more than the rest of a small response's head.
struct HTTPDateCache {
    private var second = Int.min
    private var formatted: [UInt8] = []

    /// The IMF-fixdate bytes for `second`.
    mutating func bytes(forSecond current: Int = HTTPDate.currentSecond()) -> [UInt8] {
        if current != second {
            second = current
            formatted = Array(HTTPDate.imfFixdate(secondsSinceEpoch: current).utf8)
        }
        return formatted
    }
}

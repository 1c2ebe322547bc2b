import COpenSSL

/// OpenSSL's per-thread error queue, read into text a user can act on.
///
/// The queue must be empty before each TLS I/O call, or `SSL_get_error(3)` may blame the
/// wrong call; and an entry left behind would leak into the next connection served on the
/// same event-loop thread. So every failure is drained (or cleared) where it happens.
enum OpenSSLErrorQueue {
    /// Empties the queue, returning its entries' reasons, oldest first, joined with "; "
    /// ("no start line; PEM lib"), or `fallback` when the queue was empty.
    static func drain(fallback: String = "no detail from OpenSSL") -> String {
        var reasons: [String] = []
        while true {
            let code = ERR_get_error()
            guard code != 0 else { break }
            let reason: String
            if let text = ERR_reason_error_string(code) {
                reason = String(cString: text)
            } else {
                // ERR_error_string_n(3): at least 256 bytes are enough for any entry.
                var buffer = [CChar](repeating: 0, count: 256)
                ERR_error_string_n(code, &buffer, buffer.count)
                reason = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
            if reasons.last != reason { reasons.append(reason) }
        }
        return reasons.isEmpty ? fallback : reasons.joined(separator: "; ")
    }

    /// Empties the queue without reading it.
    static func clear() {
        ERR_clear_error()
    }
}

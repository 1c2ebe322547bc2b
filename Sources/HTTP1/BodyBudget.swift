import Synchronization

/// The request-body bytes one server holds at once, across all its connections and loops
/// (`HTTPServer.Configuration.maxInflightBodyBytes`).
///
/// Without it every connection could hold a body up to `maxBodyBytes`, so memory would grow
/// with `maxConnections × maxBodyBytes` (tens of gigabytes with the defaults). A connection
/// reserves a body's bytes before reading them — the whole `Content-Length` when the head
/// arrives, a chunked body chunk by chunk as its size lines arrive — and is refused (503,
/// `Retry-After`) when the reservation does not fit. The bytes are given back when the
/// handler the body was handed to returns, when the request is refused, or when the
/// connection closes, whichever comes first.
final class BodyBudget: Sendable {
    /// Most bytes that may be reserved at once.
    let limit: Int
    private let reserved = Atomic<Int>(0)

    /// A budget of `limit` bytes, none reserved.
    init(limit: Int) {
        self.limit = limit
    }

    /// Bytes reserved now.
    var reservedBytes: Int {
        reserved.load(ordering: .relaxed)
    }

    /// Reserves `bytes` if they fit within the limit; returns whether they did. Callable
    /// from any thread.
    func reserve(_ bytes: Int) -> Bool {
        guard bytes > 0 else { return true }
        var current = reserved.load(ordering: .relaxed)
        while true {
            guard bytes <= limit - current else { return false }
            let (exchanged, original) = reserved.compareExchange(
                expected: current, desired: current + bytes, ordering: .relaxed
            )
            if exchanged { return true }
            current = original
        }
    }

    /// Gives back `bytes` reserved earlier. Callable from any thread.
    func release(_ bytes: Int) {
        guard bytes > 0 else { return }
        reserved.subtract(bytes, ordering: .relaxed)
    }
}

import Dispatch
import Synchronization

/// A token bucket per client (an API key's id, or the client's address without keys):
/// `rate` requests a second on average, bursts of up to `burst`. Refused requests are told
/// when a token will be there. At most `maxClients` buckets are kept; beyond that the
/// fullest (least recently active) are dropped, which only forgives.
public final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: UInt64
    }

    public let rate: Double
    public let burst: Double
    let maxClients: Int
    private let buckets = Mutex<[String: Bucket]>([:])

    public init(rate: Double, burst: Int, maxClients: Int = 10_000) {
        self.rate = rate
        self.burst = Double(max(1, burst))
        self.maxClients = maxClients
    }

    /// Takes a token for `client`: nil when allowed, else the whole seconds to wait.
    public func take(for client: String, now: UInt64 = DispatchTime.now().uptimeNanoseconds) -> Int? {
        buckets.withLock { buckets in
            var bucket = buckets[client] ?? Bucket(tokens: burst, updated: now)
            let elapsed = Double(now &- bucket.updated) / 1e9
            bucket.tokens = min(burst, bucket.tokens + elapsed * rate)
            bucket.updated = now
            defer {
                buckets[client] = bucket
                if buckets.count > maxClients {
                    // Forget the buckets idle longest: they have refilled the most.
                    let stale = buckets.sorted { $0.value.updated < $1.value.updated }.prefix(buckets.count - maxClients)
                    for (key, _) in stale { buckets[key] = nil }
                }
            }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            return max(1, Int(((1 - bucket.tokens) / rate).rounded(.up)))
        }
    }
}

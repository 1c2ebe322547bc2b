#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The per-request metrics, `inctrl_http_requests_total` (route, method, status) and
/// `inctrl_http_request_duration_seconds` (route), kept in shards so that the threads
/// answering requests do not share one lock.
///
/// Every request updates both families, from whichever thread finished it: both event loops
/// (a `GET /healthz` is answered on its loop) and the cooperative pool. Each thread is given
/// one shard the first time it records (round robin, so the first `shardCount` threads each
/// have their own) and takes only that shard's lock, once per request. Series are addressed
/// by small indices (route, method, status) rather than by label strings, so recording hashes
/// nothing. ``series()`` reads the shards one after another, each under its own lock, and adds
/// them up: every histogram it returns is a sum of consistent shard states, so its `_count`
/// equals its `+Inf` bucket and its `_sum` belongs to the same observations.
final class RequestMetricShards: Sendable {
    /// The method labels, by index; methods outside RFC 9110's list (and PATCH) are `OTHER`,
    /// the last.
    static let methodLabels = ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "OTHER"]

    /// The route labels, by index: the declared patterns, then the unmatched route's label.
    let routeLabels: [String]
    /// The duration histogram's finite bucket bounds.
    let upperBounds: [Double]
    private let shards: [Shard]

    /// The counts one shard holds.
    private struct Counts {
        /// For each route and method (`route * methodLabels.count + method`), every status
        /// recorded and its count, in the order first seen; 0 stands for statuses outside
        /// 100–599 (label `invalid`).
        var statuses: [[(status: Int, count: UInt64)]]
        /// For each route, its histogram's observations per bucket (not cumulative; the
        /// last is `+Inf`), `upperBounds.count + 1` per route, one route after another.
        var buckets: [UInt64]
        /// For each route, the sum of its observations.
        var sums: [Double]
        /// For each route, its number of observations.
        var counts: [UInt64]
    }

    /// One shard: its counts behind its own lock.
    private final class Shard: Sendable {
        let counts: Mutex<Counts>

        init(_ counts: Counts) {
            self.counts = Mutex(counts)
        }
    }

    /// Shards for `routeLabels` and `upperBounds`.
    /// - Parameter shardCount: How many shards; more than the threads that record at once
    ///   keeps each on its own.
    init(routeLabels: [String], upperBounds: [Double], shardCount: Int) {
        precondition(shardCount > 0, "at least one shard")
        self.routeLabels = routeLabels
        self.upperBounds = upperBounds
        let empty = Counts(
            statuses: Array(repeating: [], count: routeLabels.count * Self.methodLabels.count),
            buckets: Array(repeating: 0, count: routeLabels.count * (upperBounds.count + 1)),
            sums: Array(repeating: 0, count: routeLabels.count), counts: Array(repeating: 0, count: routeLabels.count))
        shards = (0..<shardCount).map { _ in Shard(empty) }
    }

    /// The index of `method`'s label in ``methodLabels``: the method's own when it is listed,
    /// spelled exactly so, else `OTHER`'s. Compared as short strings rather than hashed, as
    /// this runs for every request.
    static func methodIndex(_ method: String) -> Int {
        methodLabels.firstIndex(of: method) ?? methodLabels.count - 1
    }

    /// Counts one request on route `route` (an index into ``routeLabels``) with method
    /// `method` (an index into ``methodLabels``) and `status`, which took `seconds`.
    func record(route: Int, method: Int, status: Int, seconds: Double) {
        let slot = route * Self.methodLabels.count + method
        let status = (100...599).contains(status) ? status : 0
        let bucket = upperBounds.firstIndex { seconds <= $0 } ?? upperBounds.count
        let firstBucket = route * (upperBounds.count + 1)
        shards[ThreadShard.index % shards.count].counts.withLock { counts in
            if let seen = counts.statuses[slot].firstIndex(where: { $0.status == status }) {
                counts.statuses[slot][seen].count += 1
            } else {
                counts.statuses[slot].append((status, 1))
            }
            counts.buckets[firstBucket + bucket] += 1
            counts.sums[route] += seconds
            counts.counts[route] += 1
        }
    }

    /// Both families' series, as `MetricFamily` keeps them (by label values), summed over
    /// the shards: only series that have counted something.
    func series() -> (requests: [[String]: MetricFamily.Value], durations: [[String]: MetricFamily.Value]) {
        var requests: [[String]: UInt64] = [:]
        var buckets = Array(repeating: UInt64(0), count: routeLabels.count * (upperBounds.count + 1))
        var sums = Array(repeating: 0.0, count: routeLabels.count)
        var counts = Array(repeating: UInt64(0), count: routeLabels.count)
        for shard in shards {
            shard.counts.withLock { shard in
                for (slot, statuses) in shard.statuses.enumerated() where !statuses.isEmpty {
                    let route = routeLabels[slot / Self.methodLabels.count]
                    let method = Self.methodLabels[slot % Self.methodLabels.count]
                    for (status, count) in statuses {
                        requests[[route, method, status == 0 ? "invalid" : String(status)], default: 0] += count
                    }
                }
                for index in buckets.indices { buckets[index] += shard.buckets[index] }
                for route in sums.indices {
                    sums[route] += shard.sums[route]
                    counts[route] += shard.counts[route]
                }
            }
        }
        var durations: [[String]: MetricFamily.Value] = [:]
        let width = upperBounds.count + 1
        for (route, label) in routeLabels.enumerated() where counts[route] > 0 {
            durations[[label]] = .histogram(
                bucketCounts: Array(buckets[route * width..<(route + 1) * width]), sum: sums[route], count: counts[route])
        }
        return (requests.mapValues { .scalar(Double($0)) }, durations)
    }
}

/// Which shard the calling thread records into: a number given to each thread the first time
/// it asks (0, 1, 2, … in that order), kept in a pthread key.
private enum ThreadShard {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "no pthread key left for the metrics shards")
        return key
    }()
    private static let next = Atomic<Int>(0)

    static var index: Int {
        if let stored = pthread_getspecific(key) { return Int(bitPattern: stored) - 1 }
        let index = next.add(1, ordering: .relaxed).oldValue
        pthread_setspecific(key, UnsafeRawPointer(bitPattern: index + 1))
        return index
    }
}

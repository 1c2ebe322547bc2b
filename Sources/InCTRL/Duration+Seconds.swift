import Dispatch

extension Duration {
    /// The duration as a number of seconds, the base unit of configuration, metrics and
    /// benchmark output.
    public var inSeconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }

    /// The time from `start` to `end` on the monotonic clock.
    public static func between(_ start: DispatchTime, _ end: DispatchTime) -> Duration {
        .nanoseconds(Int64(end.uptimeNanoseconds) - Int64(start.uptimeNanoseconds))
    }

    /// The time elapsed since `start`.
    public static func since(_ start: DispatchTime) -> Duration {
        between(start, .now())
    }
}

import Synchronization

/// A registered counter. Label values are given in the order of the label names it was
/// registered with; giving a different number of them is a programming error and stops the
/// process, as in every Prometheus client.
public struct PrometheusCounter: Sendable {
    let family: FamilyHandle

    /// Adds `amount` (not negative: counters only go up) to the series with `labelValues`.
    public func increment(by amount: Double = 1, labelValues: [String] = []) {
        precondition(amount >= 0, "counter \(family.name) cannot decrease")
        family.registry.change(family, labelValues: labelValues) { $0.add(amount, labelValues: labelValues) }
    }

    /// Raises the series with `labelValues` to `total`, for a count kept elsewhere and read
    /// when the metrics are scraped; a `total` below the series' value leaves it unchanged,
    /// so the counter never goes down.
    public func advance(to total: Double, labelValues: [String] = []) {
        family.registry.change(family, labelValues: labelValues) { $0.raise(to: total, labelValues: labelValues) }
    }
}

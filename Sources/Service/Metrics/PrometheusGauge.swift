import Synchronization

/// A registered gauge. Label values are given as for `PrometheusCounter`.
public struct PrometheusGauge: Sendable {
    let family: FamilyHandle

    /// Sets the series with `labelValues` to `value`.
    public func set(_ value: Double, labelValues: [String] = []) {
        family.registry.change(family, labelValues: labelValues) { $0.set(value, labelValues: labelValues) }
    }

    /// Adds `amount` (negative to subtract) to the series with `labelValues`.
    public func increment(by amount: Double = 1, labelValues: [String] = []) {
        family.registry.change(family, labelValues: labelValues) { $0.add(amount, labelValues: labelValues) }
    }

    /// Subtracts `amount` from the series with `labelValues`.
    public func decrement(by amount: Double = 1, labelValues: [String] = []) {
        increment(by: -amount, labelValues: labelValues)
    }

    /// Forgets every series, as when an info gauge's labels change.
    public func removeAllSeries() {
        family.registry.removeAllSeries(family)
    }
}

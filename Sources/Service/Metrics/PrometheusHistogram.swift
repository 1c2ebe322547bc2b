import Synchronization

/// A registered histogram. Label values are given as for `PrometheusCounter`.
public struct PrometheusHistogram: Sendable {
    let family: FamilyHandle

    /// Counts `value` in its bucket of the series with `labelValues`. NaN is ignored: it
    /// belongs in no bucket and would turn the sum into NaN for good.
    public func observe(_ value: Double, labelValues: [String] = []) {
        guard !value.isNaN else { return }
        family.registry.change(family, labelValues: labelValues) { $0.observe(value, labelValues: labelValues) }
    }

    /// Counts a duration, in seconds.
    public func observe(_ duration: Duration, labelValues: [String] = []) {
        observe(duration.inSeconds, labelValues: labelValues)
    }
}

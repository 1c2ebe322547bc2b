/// Why a metric family cannot be registered. The service registers a fixed set of families,
/// so these errors mean a mistake in the code that declares them, which tests catch.
public enum MetricsRegistrationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The name is not `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    case invalidMetricName(String)
    /// A label name is not `[a-zA-Z_][a-zA-Z0-9_]*`, starts with the reserved `__`, or is
    /// `le` on a histogram.
    case invalidLabelName(metric: String, label: String)
    /// A label name is declared twice.
    case duplicateLabelName(metric: String)
    /// A counter's name does not end in `_total`.
    case counterNameWithoutTotalSuffix(String)
    /// Another family already writes samples under this name.
    case duplicateMetric(String)
    /// Histogram buckets are empty, not finite, or not strictly increasing.
    case invalidBuckets(metric: String)

    public var description: String {
        switch self {
        case let .invalidMetricName(name): "metric name '\(name)' must match [a-zA-Z_:][a-zA-Z0-9_:]*"
        case let .invalidLabelName(metric, label): "metric \(metric) cannot have a label named '\(label)'"
        case let .duplicateLabelName(metric): "metric \(metric) declares a label name twice"
        case let .counterNameWithoutTotalSuffix(name): "counter '\(name)' must be named with the suffix _total"
        case let .duplicateMetric(name): "metric \(name) collides with one already registered"
        case let .invalidBuckets(metric): "histogram \(metric) needs finite, strictly increasing bucket bounds"
        }
    }
}

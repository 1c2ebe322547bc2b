import Synchronization

/// A set of metric families — counters, gauges and histograms with fixed buckets — that
/// renders itself in the Prometheus text exposition format 0.0.4.
///
/// Each family declares its label names when it is registered; every update then gives one
/// value per label name, in the same order. All updates and rendering take one lock, which
/// costs far less than the requests being measured; families updated on every request can
/// instead be kept by their owner and collected when the registry renders (`collecting`).
public final class PrometheusRegistry: Sendable {
    private let state = Mutex(State())

    /// An empty registry.
    public init() {}

    /// Registers a counter: a value that only goes up (requests served, bytes sent).
    /// The name must end in `_total`, as Prometheus' naming conventions ask.
    public func counter(
        _ name: String, help: String, labelNames: [String] = []
    ) throws(MetricsRegistrationError) -> PrometheusCounter {
        guard name.hasSuffix("_total") else { throw .counterNameWithoutTotalSuffix(name) }
        return PrometheusCounter(family: try register(MetricFamily(name: name, help: help, type: .counter, labelNames: labelNames)))
    }

    /// Registers a gauge: a value that goes up and down (queue depth, open connections).
    public func gauge(
        _ name: String, help: String, labelNames: [String] = []
    ) throws(MetricsRegistrationError) -> PrometheusGauge {
        PrometheusGauge(family: try register(MetricFamily(name: name, help: help, type: .gauge, labelNames: labelNames)))
    }

    /// Registers a gauge without labels whose value `sample` gives when the registry renders:
    /// for a value its owner keeps anyway (in an atomic), so that updating it takes no lock.
    public func gauge(
        _ name: String, help: String, sampling sample: @escaping @Sendable () -> Double
    ) throws(MetricsRegistrationError) {
        let handle = try register(MetricFamily(name: name, help: help, type: .gauge, labelNames: []))
        state.withLock { $0.samplers.append((handle.index, sample)) }
    }

    /// Has `collect` give every series of `families` (in that order) when the registry
    /// renders: for families whose owner keeps their values itself (sharded, so that updating
    /// them takes no lock shared by every thread). Such families are not changed through their
    /// handles; whatever `collect` returns replaces their series.
    func collecting(
        _ families: [FamilyHandle], _ collect: @escaping @Sendable () -> [[[String]: MetricFamily.Value]]
    ) {
        state.withLock { $0.collectors.append((families.map(\.index), collect)) }
    }

    /// Registers a histogram with the given bucket upper bounds, which must be finite and
    /// increasing; the `+Inf` bucket is always added.
    public func histogram(
        _ name: String, help: String, labelNames: [String] = [], buckets: [Double]
    ) throws(MetricsRegistrationError) -> PrometheusHistogram {
        guard !buckets.isEmpty, buckets.allSatisfy(\.isFinite), zip(buckets, buckets.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw .invalidBuckets(metric: name)
        }
        guard !labelNames.contains("le") else { throw .invalidLabelName(metric: name, label: "le") }
        let family = MetricFamily(name: name, help: help, type: .histogram(upperBounds: buckets), labelNames: labelNames)
        return PrometheusHistogram(family: try register(family))
    }

    /// Every family in the text exposition format 0.0.4: families sorted by name, series
    /// sorted by label values, so the same state always renders the same text.
    public func render() -> String {
        var (families, samplers, collectors) = state.withLock { ($0.families, $0.samplers, $0.collectors) }
        for (index, sample) in samplers {
            families[index].set(sample(), labelValues: [])
        }
        for (indices, collect) in collectors {
            for (index, series) in zip(indices, collect()) {
                families[index].replaceSeries(series)
            }
        }
        var text = ""
        for family in families.sorted(by: { $0.name < $1.name }) {
            family.render(into: &text)
        }
        return text
    }

    /// Adds `family` after checking its names, and returns its handle.
    private func register(_ family: MetricFamily) throws(MetricsRegistrationError) -> FamilyHandle {
        guard MetricFamily.isValidMetricName(family.name) else { throw .invalidMetricName(family.name) }
        for label in family.labelNames where !MetricFamily.isValidLabelName(label) {
            throw .invalidLabelName(metric: family.name, label: label)
        }
        guard Set(family.labelNames).count == family.labelNames.count else {
            throw .duplicateLabelName(metric: family.name)
        }
        let index = try state.withLock { state throws(MetricsRegistrationError) in
            // A histogram also writes `name_bucket`, `name_sum` and `name_count`; no two
            // families may write samples under the same name.
            let taken = Set(state.families.flatMap(\.sampleNames))
            guard taken.isDisjoint(with: family.sampleNames) else { throw .duplicateMetric(family.name) }
            state.families.append(family)
            return state.families.count - 1
        }
        return FamilyHandle(registry: self, index: index, name: family.name, labelCount: family.labelNames.count)
    }

    /// Applies `change` to family `handle` under the lock, for the series with `labelValues`.
    func change(
        _ handle: FamilyHandle, labelValues: [String], _ change: (inout MetricFamily) -> Void
    ) {
        Self.checkLabelCount(handle, labelValues)
        state.withLock { state in change(&state.families[handle.index]) }
    }

    /// Two changes under one acquisition of the lock, for updates that always come together
    /// (a request's counter and its duration).
    func change(
        _ first: FamilyHandle, labelValues firstLabels: [String], _ firstChange: (inout MetricFamily) -> Void,
        and second: FamilyHandle, labelValues secondLabels: [String], _ secondChange: (inout MetricFamily) -> Void
    ) {
        Self.checkLabelCount(first, firstLabels)
        Self.checkLabelCount(second, secondLabels)
        state.withLock { state in
            firstChange(&state.families[first.index])
            secondChange(&state.families[second.index])
        }
    }

    /// Stops the process when `labelValues` does not give one value per label of `handle`:
    /// a programming error, as in every Prometheus client.
    private static func checkLabelCount(_ handle: FamilyHandle, _ labelValues: [String]) {
        precondition(
            labelValues.count == handle.labelCount,
            "\(handle.name) has \(handle.labelCount) labels but was given \(labelValues.count) values")
    }

    /// Removes every series of family `handle`.
    func removeAllSeries(_ handle: FamilyHandle) {
        state.withLock { state in state.families[handle.index].removeAllSeries() }
    }

    private struct State {
        var families: [MetricFamily] = []
        /// The gauges sampled at rendering: family index and how to read the value.
        var samplers: [(index: Int, sample: @Sendable () -> Double)] = []
        /// The families whose series are collected at rendering: their indices and how to
        /// collect them.
        var collectors: [(indices: [Int], collect: @Sendable () -> [[[String]: MetricFamily.Value]])] = []
    }
}


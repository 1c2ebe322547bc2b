/// One metric family: its name, help, type, label names, and a value per set of label values.
struct MetricFamily: Sendable {
    /// The kinds of family the text format 0.0.4 knows that this registry writes.
    enum MetricType: Sendable {
        case counter
        case gauge
        /// Finite, increasing bucket upper bounds; `+Inf` is implied.
        case histogram(upperBounds: [Double])
    }

    /// The value of one series.
    enum Value: Sendable {
        case scalar(Double)
        /// Observations per bucket (not cumulative; the last is the `+Inf` bucket), their
        /// sum and their count.
        case histogram(bucketCounts: [UInt64], sum: Double, count: UInt64)

        /// Replaces a scalar with `change` of it; a histogram stays as it is.
        fileprivate mutating func changeScalar(_ change: (Double) -> Double) {
            guard case let .scalar(value) = self else { return }
            self = .scalar(change(value))
        }

        /// Counts `value` in the first bucket whose upper bound is at least `value` (bucket
        /// bounds are inclusive, `le`).
        fileprivate mutating func observe(_ value: Double, upperBounds: [Double]) {
            guard case .histogram(var bucketCounts, let sum, let count) = self else { return }
            let bucket = upperBounds.firstIndex { value <= $0 } ?? upperBounds.count
            self = .scalar(0)  // drops this copy's reference, so the counts change in place
            bucketCounts[bucket] += 1
            self = .histogram(bucketCounts: bucketCounts, sum: sum + value, count: count + 1)
        }
    }

    let name: String
    let help: String
    let type: MetricType
    let labelNames: [String]
    private(set) var series: [[String]: Value] = [:]

    init(name: String, help: String, type: MetricType, labelNames: [String]) {
        self.name = name
        self.help = help
        self.type = type
        self.labelNames = labelNames
        // A family without labels has exactly one series; it is shown at zero from the
        // start, so a dashboard sees 0 rather than no data.
        if labelNames.isEmpty { series[[]] = zero }
    }

    /// A new series' value.
    private var zero: Value {
        switch type {
        case .counter, .gauge: .scalar(0)
        case let .histogram(upperBounds): .histogram(bucketCounts: Array(repeating: 0, count: upperBounds.count + 1), sum: 0, count: 0)
        }
    }

    /// The names this family's samples are written under.
    var sampleNames: [String] {
        switch type {
        case .counter, .gauge: [name]
        case .histogram: [name, name + "_bucket", name + "_sum", name + "_count"]
        }
    }

    /// Adds `amount` to a counter or gauge series (one lookup of its labels).
    mutating func add(_ amount: Double, labelValues: [String]) {
        guard case .scalar = zero else { return }
        series[labelValues, default: .scalar(0)].changeScalar { $0 + amount }
    }

    /// Raises a counter or gauge series to `value` if it is below it.
    mutating func raise(to value: Double, labelValues: [String]) {
        guard case .scalar = zero else { return }
        series[labelValues, default: .scalar(0)].changeScalar { Swift.max($0, value) }
    }

    /// Sets a gauge series.
    mutating func set(_ value: Double, labelValues: [String]) {
        series[labelValues] = .scalar(value)
    }

    /// Counts `value` in a histogram series.
    mutating func observe(_ value: Double, labelValues: [String]) {
        guard case let .histogram(upperBounds) = type else { return }
        let empty = zero
        series[labelValues, default: empty].observe(value, upperBounds: upperBounds)
    }

    /// Replaces every series with `series` (for a family collected at rendering).
    mutating func replaceSeries(_ series: [[String]: Value]) {
        self.series = series
    }

    mutating func removeAllSeries() {
        series = labelNames.isEmpty ? [[]: zero] : [:]
    }

    // MARK: Names

    /// Metric names are `[a-zA-Z_:][a-zA-Z0-9_:]*` (Prometheus data model).
    static func isValidMetricName(_ name: String) -> Bool {
        guard let first = name.utf8.first, !isDigit(first) else { return false }
        return name.utf8.allSatisfy { isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ":") }
    }

    /// Label names are `[a-zA-Z_][a-zA-Z0-9_]*`, and names starting `__` are reserved.
    static func isValidLabelName(_ name: String) -> Bool {
        guard let first = name.utf8.first, !isDigit(first), !name.hasPrefix("__") else { return false }
        return name.utf8.allSatisfy { isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "_") }
    }

    private static func isLetter(_ byte: UInt8) -> Bool { (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) }
    private static func isDigit(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) }
}

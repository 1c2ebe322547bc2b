extension MetricFamily {
    /// Appends this family in the text exposition format 0.0.4: `# HELP` and `# TYPE`
    /// lines, then one line per sample, series sorted by label values.
    func render(into text: inout String) {
        text += "# HELP \(name) \(PrometheusText.escapedHelp(help))\n"
        switch type {
        case .counter: text += "# TYPE \(name) counter\n"
        case .gauge: text += "# TYPE \(name) gauge\n"
        case .histogram: text += "# TYPE \(name) histogram\n"
        }
        let sortedSeries = series.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        for (labelValues, value) in sortedSeries {
            let labels = Array(zip(labelNames, labelValues))
            switch (value, type) {
            case let (.scalar(number), _):
                text += PrometheusText.sample(name, labels: labels, value: number)
            case let (.histogram(bucketCounts, sum, count), .histogram(upperBounds)):
                // Buckets are cumulative in the exposition: each counts every observation
                // at or below its bound, and +Inf counts them all.
                var cumulative: UInt64 = 0
                for (bound, bucketCount) in zip(upperBounds + [.infinity], bucketCounts) {
                    cumulative += bucketCount
                    let bucketLabels = labels + [("le", PrometheusText.number(bound))]
                    text += PrometheusText.sample(name + "_bucket", labels: bucketLabels, value: Double(cumulative))
                }
                text += PrometheusText.sample(name + "_sum", labels: labels, value: sum)
                text += PrometheusText.sample(name + "_count", labels: labels, value: Double(count))
            case (.histogram, _):
                break
            }
        }
    }
}


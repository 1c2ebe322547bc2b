import Dispatch
import Foundation
import Synchronization
import Testing
@testable import Service

/// The registry renders what the official client renders for the same updates, in the
/// text format 0.0.4, sorted, escaped and safe to update from many threads.
@Suite struct PrometheusRegistryTests {
    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/prometheus")

    /// `tools/make_prometheus_fixtures.py`'s scenario: families and the updates made to them.
    struct Scenario: Decodable {
        struct Family: Decodable {
            var type: String
            var name: String
            var help: String
            var labels: [String]
            var buckets: [Double]?
            var operations: [Operation]
        }

        struct Operation: Decodable {
            var labels: [String]
            var inc: Number?
            var set: Number?
            var observe: Number?
        }

        /// A number, or one of the strings "+Inf", "-Inf", "NaN" that JSON cannot spell.
        struct Number: Decodable {
            var value: Double

            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let number = try? container.decode(Double.self) {
                    value = number
                } else if let number = PrometheusExposition.parseNumber(try container.decode(String.self)) {
                    value = number
                } else {
                    throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a number")
                }
            }
        }

        var families: [Family]
    }

    @Test func rendersWhatTheReferenceClientRenders() throws {
        let scenario = try JSONDecoder().decode(
            Scenario.self, from: Data(contentsOf: Self.fixtures.appendingPathComponent("scenario.json")))
        let registry = PrometheusRegistry()
        for family in scenario.families {
            switch family.type {
            case "counter":
                let counter = try registry.counter(family.name, help: family.help, labelNames: family.labels)
                for operation in family.operations {
                    counter.increment(by: try #require(operation.inc).value, labelValues: operation.labels)
                }
            case "gauge":
                let gauge = try registry.gauge(family.name, help: family.help, labelNames: family.labels)
                for operation in family.operations {
                    if let set = operation.set { gauge.set(set.value, labelValues: operation.labels) }
                    if let inc = operation.inc { gauge.increment(by: inc.value, labelValues: operation.labels) }
                }
            default:
                let histogram = try registry.histogram(
                    family.name, help: family.help, labelNames: family.labels, buckets: try #require(family.buckets))
                for operation in family.operations {
                    histogram.observe(try #require(operation.observe).value, labelValues: operation.labels)
                }
            }
        }
        let rendered = try PrometheusExposition(parsing: registry.render())
        let reference = try PrometheusExposition(
            parsing: String(contentsOf: Self.fixtures.appendingPathComponent("reference.txt"), encoding: .utf8))
        #expect(rendered.help == reference.help)
        #expect(rendered.types == reference.types)
        #expect(rendered.samples.count == reference.samples.count)
        #expect(Set(rendered.samples) == Set(reference.samples))
        for sample in reference.samples where !rendered.samples.contains(sample) {
            Issue.record("missing or different: \(sample)")
        }
    }

    /// A sampled gauge shows the value its sampler gives at each rendering, as a gauge set to
    /// it would; two changes made together land together.
    @Test func sampledGaugesAndPairedChangesRenderAsPlainUpdates() throws {
        let value = Mutex<Double>(0)
        let sampled = PrometheusRegistry()
        try sampled.gauge("in_flight", help: "Now.") { value.withLock { $0 } }
        let counter = try sampled.counter("served_total", help: "Served.", labelNames: ["route"])
        let histogram = try sampled.histogram("took_seconds", help: "Took.", labelNames: ["route"], buckets: [0.1, 1])
        let plain = PrometheusRegistry()
        let gauge = try plain.gauge("in_flight", help: "Now.")
        let plainCounter = try plain.counter("served_total", help: "Served.", labelNames: ["route"])
        let plainHistogram = try plain.histogram("took_seconds", help: "Took.", labelNames: ["route"], buckets: [0.1, 1])
        for (now, took) in [(3.0, 0.05), (1.0, 0.5), (0.0, 2.0)] {
            value.withLock { $0 = now }
            gauge.set(now)
            sampled.change(
                counter.family, labelValues: ["/a"], { $0.add(1, labelValues: ["/a"]) },
                and: histogram.family, labelValues: ["/a"], { $0.observe(took, labelValues: ["/a"]) })
            plainCounter.increment(labelValues: ["/a"])
            plainHistogram.observe(took, labelValues: ["/a"])
            #expect(sampled.render() == plain.render())
            #expect(sampled.render().contains("in_flight \(PrometheusText.number(now))\n"))
        }
    }

    @Test func sortsFamiliesAndSeriesStably() throws {
        let registry = PrometheusRegistry()
        let zebra = try registry.counter("zebra_total", help: "z", labelNames: ["kind"])
        let apple = try registry.gauge("apple", help: "a")
        zebra.increment(labelValues: ["b"])
        zebra.increment(labelValues: ["a"])
        zebra.increment(labelValues: ["ab"])
        apple.set(3)
        let expected = """
            # HELP apple a
            # TYPE apple gauge
            apple 3
            # HELP zebra_total z
            # TYPE zebra_total counter
            zebra_total{kind="a"} 1
            zebra_total{kind="ab"} 1
            zebra_total{kind="b"} 1

            """
        #expect(registry.render() == expected)
        #expect(registry.render() == registry.render())
    }

    @Test func escapesLabelValuesAndHelp() throws {
        let registry = PrometheusRegistry()
        let counter = try registry.counter("x_total", help: "line\nbreak \\ and \"quotes\"", labelNames: ["a"])
        counter.increment(labelValues: ["q\"b\\c\nd"])
        #expect(registry.render() == """
            # HELP x_total line\\nbreak \\\\ and "quotes"
            # TYPE x_total counter
            x_total{a="q\\"b\\\\c\\nd"} 1

            """)
    }

    @Test(arguments: [
        (0.0, "0"), (-0.0, "0"), (12, "12"), (-42, "-42"), (0.005, "0.005"), (1.5, "1.5"), (1e-7, "1e-07"),
        (.infinity, "+Inf"), (-.infinity, "-Inf"), (.nan, "NaN"), (9_007_199_254_740_991, "9007199254740991"),
        (9_007_199_254_740_992, "9007199254740992"), (1e18, "1000000000000000000"), (1e19, "1e+19"),
        (-0x1p63, "-9223372036854775808"), (1.5e300, "1.5e+300"), (0.1 + 0.2, "0.30000000000000004"),
    ])
    func writesNumbersPrometheusReads(value: Double, text: String) {
        #expect(PrometheusText.number(value) == text)
        let readBack = PrometheusExposition.parseNumber(text)
        #expect(readBack == value || (value.isNaN && readBack?.isNaN == true))
    }

    @Test func histogramBucketsAreInclusiveAndCumulative() throws {
        let registry = PrometheusRegistry()
        let histogram = try registry.histogram("h_seconds", help: "h", buckets: [0.1, 1])
        for value in [0.1, 0.10000001, -5, 1, 1000, .nan] { histogram.observe(value) }
        histogram.observe(Duration.milliseconds(250))
        let samples = try PrometheusExposition(parsing: registry.render()).samples
        func value(_ name: String, le: String? = nil) -> Double? {
            samples.first { $0.name == name && $0.labels["le"] == le }?.value
        }
        #expect(value("h_seconds_bucket", le: "0.1") == 2)  // -5 and 0.1; NaN is not counted
        #expect(value("h_seconds_bucket", le: "1") == 5)
        #expect(value("h_seconds_bucket", le: "+Inf") == 6)
        #expect(value("h_seconds_count") == 6)
        #expect(value("h_seconds_sum") == 0.1 + 0.10000001 - 5 + 1 + 1000 + 0.25)
    }

    @Test func unlabelledFamiliesStartAtZero() throws {
        let registry = PrometheusRegistry()
        _ = try registry.counter("c_total", help: "c")
        _ = try registry.gauge("g", help: "g")
        _ = try registry.histogram("h", help: "h", buckets: [1])
        _ = try registry.gauge("labelled", help: "l", labelNames: ["a"])
        let exposition = try PrometheusExposition(parsing: registry.render())
        #expect(Set(exposition.samples) == [
            .init(name: "c_total", labels: [:], value: 0), .init(name: "g", labels: [:], value: 0),
            .init(name: "h_bucket", labels: ["le": "1"], value: 0), .init(name: "h_bucket", labels: ["le": "+Inf"], value: 0),
            .init(name: "h_sum", labels: [:], value: 0), .init(name: "h_count", labels: [:], value: 0),
        ])
        #expect(exposition.types["labelled"] == "gauge")
    }

    @Test func gaugesMoveBothWaysAndForgetSeries() throws {
        let registry = PrometheusRegistry()
        let gauge = try registry.gauge("g", help: "g")
        gauge.increment(by: 5)
        gauge.decrement(by: 2)
        gauge.decrement()
        #expect(registry.render().hasSuffix("\ng 2\n"))
        gauge.set(-1.5)
        #expect(registry.render().hasSuffix("\ng -1.5\n"))
        gauge.removeAllSeries()
        #expect(registry.render().hasSuffix("\ng 0\n"))

        let info = try registry.gauge("info", help: "i", labelNames: ["name"])
        info.set(1, labelValues: ["a"])
        info.removeAllSeries()
        info.set(1, labelValues: ["b"])
        let samples = try PrometheusExposition(parsing: registry.render()).samples.filter { $0.name == "info" }
        #expect(samples == [.init(name: "info", labels: ["name": "b"], value: 1)])
    }

    @Test func concurrentUpdatesAreAllCounted() throws {
        let registry = PrometheusRegistry()
        let counter = try registry.counter("c_total", help: "c", labelNames: ["worker"])
        let histogram = try registry.histogram("h", help: "h", buckets: [0.5])
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for index in 0..<5_000 {
                counter.increment(labelValues: [String(worker % 2)])
                histogram.observe(Double(index % 2))
                if index % 1000 == 0 { _ = registry.render() }
            }
        }
        let samples = try PrometheusExposition(parsing: registry.render()).samples
        #expect(samples.filter { $0.name == "c_total" }.map(\.value).reduce(0, +) == 40_000)
        #expect(samples.first { $0.name == "h_count" }?.value == 40_000)
        #expect(samples.first { $0.name == "h_bucket" && $0.labels["le"] == "0.5" }?.value == 20_000)
    }

    @Test func refusesBadDeclarations() throws {
        let registry = PrometheusRegistry()
        _ = try registry.histogram("taken_seconds", help: "h", buckets: [1])
        #expect(throws: MetricsRegistrationError.invalidMetricName("1abc")) { try registry.gauge("1abc", help: "") }
        #expect(throws: MetricsRegistrationError.invalidMetricName("a-b")) { try registry.gauge("a-b", help: "") }
        #expect(throws: MetricsRegistrationError.invalidMetricName("")) { try registry.gauge("", help: "") }
        #expect(throws: MetricsRegistrationError.invalidLabelName(metric: "g", label: "__reserved")) {
            try registry.gauge("g", help: "", labelNames: ["__reserved"])
        }
        #expect(throws: MetricsRegistrationError.invalidLabelName(metric: "g", label: "a:b")) {
            try registry.gauge("g", help: "", labelNames: ["a:b"])
        }
        #expect(throws: MetricsRegistrationError.invalidLabelName(metric: "h", label: "le")) {
            try registry.histogram("h", help: "", labelNames: ["le"], buckets: [1])
        }
        #expect(throws: MetricsRegistrationError.duplicateLabelName(metric: "g")) {
            try registry.gauge("g", help: "", labelNames: ["a", "a"])
        }
        #expect(throws: MetricsRegistrationError.counterNameWithoutTotalSuffix("requests")) {
            try registry.counter("requests", help: "")
        }
        #expect(throws: MetricsRegistrationError.duplicateMetric("taken_seconds")) { try registry.gauge("taken_seconds", help: "") }
        #expect(throws: MetricsRegistrationError.duplicateMetric("taken_seconds_count")) {
            try registry.gauge("taken_seconds_count", help: "")
        }
        _ = try registry.gauge("latency_sum", help: "")
        #expect(throws: MetricsRegistrationError.duplicateMetric("latency")) {
            try registry.histogram("latency", help: "", buckets: [1])
        }
        for buckets in [[], [1, 1], [2, 1], [.nan], [1, .infinity]] as [[Double]] {
            #expect(throws: MetricsRegistrationError.invalidBuckets(metric: "b")) {
                try registry.histogram("b", help: "", buckets: buckets)
            }
        }
        #expect(Set([
            MetricsRegistrationError.invalidMetricName("x"), .invalidLabelName(metric: "x", label: "y"),
            .duplicateLabelName(metric: "x"), .counterNameWithoutTotalSuffix("x"), .duplicateMetric("x"),
            .invalidBuckets(metric: "x"),
        ].map(\.description)).count == 6)
    }
}

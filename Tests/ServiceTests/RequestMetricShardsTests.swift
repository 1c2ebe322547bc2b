import Dispatch
import Synchronization
import Testing
@testable import Service

/// The request metrics, kept in shards, render exactly what one registry updated request by
/// request renders, count every request from every thread, and stay consistent while threads
/// record during a scrape.
@Suite struct RequestMetricShardsTests {
    static let routes: Set<String> = ["/score", "/prompts", "/prompts/{id}", "/healthz"]

    /// One request as `ServiceMetrics.recordRequest` is given it.
    struct Observation: Sendable {
        var route: String?
        var method: String
        var status: Int
        var seconds: Double
    }

    /// The two request families' lines of `text`.
    static func requestLines(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).filter { $0.contains("inctrl_http_request") }.joined(separator: "\n")
    }

    /// What one registry, updated through its counter and histogram under its one lock,
    /// renders for `observations`: the families and labels `ServiceMetrics` declares.
    static func unshardedLines(_ observations: [Observation]) throws -> String {
        let registry = PrometheusRegistry()
        let requests = try registry.counter(
            "inctrl_http_requests_total", help: "HTTP requests answered, by route pattern, method and status code.",
            labelNames: ["route", "method", "status"])
        let durations = try registry.histogram(
            "inctrl_http_request_duration_seconds",
            help: "Time from a request's arrival to its response being handed to the connection, by route pattern.",
            labelNames: ["route"], buckets: ServiceMetrics.requestDurationBuckets)
        let standard: Set = ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]
        for observation in observations {
            let route = observation.route.flatMap { routes.contains($0) ? $0 : nil } ?? ServiceMetrics.unmatchedRoute
            let method = standard.contains(observation.method) ? observation.method : "OTHER"
            let status = (100...599).contains(observation.status) ? String(observation.status) : "invalid"
            requests.increment(labelValues: [route, method, status])
            durations.observe(duration(observation), labelValues: [route])
        }
        return requestLines(registry.render())
    }

    /// The duration both sides are given for `observation`.
    static func duration(_ observation: Observation) -> Duration {
        .nanoseconds(Int64((observation.seconds * 1e9).rounded()))
    }

    static func record(_ observation: Observation, in metrics: ServiceMetrics) {
        metrics.recordRequest(route: observation.route, method: observation.method, status: observation.status, duration: duration(observation))
    }

    static let durations = [0, 0.001, 0.005, 0.0051, 0.01, 0.3, 2.5, 60, 61, 1e-9]

    @Test func rendersWhatOneRegistryRendersForTheSameRequests() throws {
        var observations: [Observation] = []
        let routes: [String?] = ["/healthz", "/score", "/prompts/{id}", nil, "/not-declared"]
        let methods = ["GET", "POST", "PATCH", "BREW", "get"]
        let statuses = [200, 404, 503, 99, 600, 201]
        for index in 0..<600 {
            observations.append(Observation(
                route: routes[index % routes.count], method: methods[index / 5 % methods.count],
                status: statuses[index / 7 % statuses.count], seconds: Self.durations[index % Self.durations.count]))
        }
        let metrics = try ServiceMetrics(routePatterns: Self.routes)
        #expect(Self.requestLines(metrics.render()) == (try Self.unshardedLines([])))
        for observation in observations { Self.record(observation, in: metrics) }
        let rendered = Self.requestLines(metrics.render())
        #expect(rendered == (try Self.unshardedLines(observations)))
        #expect(rendered.contains(#"inctrl_http_requests_total{route="unmatched",method="OTHER",status="invalid"} "#))
    }

    @Test func countsEveryRequestFromEveryThread() throws {
        let metrics = try ServiceMetrics(routePatterns: Self.routes)
        // Eighths add up exactly in any order, so the sums cannot differ by rounding.
        @Sendable func observation(_ worker: Int, _ index: Int) -> Observation {
            Observation(
                route: ["/healthz", "/score", nil][(worker + index) % 3], method: index % 4 == 0 ? "POST" : "GET",
                status: [200, 404, 503][index % 3], seconds: Double(index % 20) / 8)
        }
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for index in 0..<5_000 { Self.record(observation(worker, index), in: metrics) }
        }
        let all = (0..<8).flatMap { worker in (0..<5_000).map { observation(worker, $0) } }
        #expect(Self.requestLines(metrics.render()) == (try Self.unshardedLines(all)))
        let samples = try PrometheusExposition(parsing: metrics.render()).samples
        #expect(samples.filter { $0.name == "inctrl_http_requests_total" }.map(\.value).reduce(0, +) == 40_000)
    }

    @Test func everyScrapeDuringWritesIsConsistent() throws {
        let metrics = try ServiceMetrics(routePatterns: Self.routes)
        // Each route always takes the same time, so its sum must be its count times that.
        let seconds: [String: Double] = ["/healthz": 0.25, "/score": 1.5, "unmatched": 0.0078125]
        let problems = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 5) { worker in
            guard worker == 0 else {
                for index in 0..<20_000 {
                    let route = ["/healthz", "/score", "unmatched"][(worker + index) % 3]
                    metrics.recordRequest(
                        route: route == "unmatched" ? nil : route, method: "GET", status: index % 5 == 0 ? 500 : 200,
                        duration: .nanoseconds(Int64(seconds[route]! * 1e9)))
                }
                return
            }
            for _ in 0..<300 {
                guard let samples = try? PrometheusExposition(parsing: metrics.render()).samples else {
                    problems.withLock { $0.append("unparsable") }
                    return
                }
                for (route, each) in seconds {
                    let series = samples.filter { $0.labels["route"] == route }
                    let count = series.first { $0.name == "inctrl_http_request_duration_seconds_count" }?.value ?? 0
                    let infinite = series.first { $0.name == "inctrl_http_request_duration_seconds_bucket" && $0.labels["le"] == "+Inf" }?.value ?? 0
                    let sum = series.first { $0.name == "inctrl_http_request_duration_seconds_sum" }?.value ?? 0
                    let requests = series.filter { $0.name == "inctrl_http_requests_total" }.map(\.value).reduce(0, +)
                    if count != infinite || sum != count * each || requests != count {
                        problems.withLock { $0.append("\(route): count \(count), +Inf \(infinite), sum \(sum), requests \(requests)") }
                    }
                }
            }
        }
        #expect(problems.withLock { $0 } == [])
        let samples = try PrometheusExposition(parsing: metrics.render()).samples
        let healthCount = samples.first { $0.name == "inctrl_http_request_duration_seconds_count" && $0.labels["route"] == "/healthz" }
        #expect((healthCount?.value ?? 0) > 0)
        #expect(samples.filter { $0.name == "inctrl_http_requests_total" }.map(\.value).reduce(0, +) == 80_000)
    }
}

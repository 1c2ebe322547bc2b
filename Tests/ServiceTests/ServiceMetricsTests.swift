import Testing
@testable import Service

/// The service's metric families: names, types, base units, and labels no client can
/// multiply.
@Suite struct ServiceMetricsTests {
    static let routes: Set<String> = ["/score", "/prompts", "/prompts/{id}", "/healthz"]

    func exposition(_ metrics: ServiceMetrics) throws -> PrometheusExposition {
        try PrometheusExposition(parsing: metrics.render())
    }

    func value(_ exposition: PrometheusExposition, _ name: String, _ labels: [String: String] = [:]) -> Double? {
        exposition.samples.first { $0.name == name && $0.labels == labels }?.value
    }

    @Test func declaresEveryFamilyWithItsType() throws {
        let exposition = try exposition(ServiceMetrics(routePatterns: Self.routes))
        #expect(exposition.types == [
            "inctrl_http_requests_total": "counter",
            "inctrl_http_request_duration_seconds": "histogram",
            "inctrl_queue_wait_seconds": "histogram",
            "inctrl_inference_duration_seconds": "histogram",
            "inctrl_batch_size": "histogram",
            "inctrl_queue_depth": "gauge",
            "inctrl_requests_in_flight": "gauge",
            "inctrl_prompt_sets": "gauge",
            "inctrl_open_connections": "gauge",
            "inctrl_model_info": "gauge",
            "inctrl_rejected_requests_total": "counter",
            "inctrl_decisions_total": "counter",
            "inctrl_log_lines_dropped_total": "counter",
            "inctrl_feature_lookups_total": "counter",
            "inctrl_feature_evictions_total": "counter",
            "inctrl_feature_cache_sets": "gauge",
            "inctrl_feature_cache_bytes": "gauge",
            "inctrl_store_changes_total": "counter",
        ])
        #expect(exposition.help.values.allSatisfy { !$0.isEmpty })
        #expect(exposition.familyOrder == exposition.familyOrder.sorted())
        #expect(ServiceMetrics.contentType == "text/plain; version=0.0.4; charset=utf-8")
    }

    @Test func countsRequestsByRoutePatternMethodAndStatus() throws {
        let metrics = try ServiceMetrics(routePatterns: Self.routes)
        metrics.recordRequest(route: "/score", method: "POST", status: 200, duration: .milliseconds(150))
        metrics.recordRequest(route: "/score", method: "POST", status: 200, duration: .milliseconds(450))
        metrics.recordRequest(route: "/prompts/{id}", method: "DELETE", status: 404, duration: .milliseconds(2))
        let exposition = try exposition(metrics)
        #expect(value(exposition, "inctrl_http_requests_total", ["route": "/score", "method": "POST", "status": "200"]) == 2)
        #expect(value(exposition, "inctrl_http_requests_total", ["route": "/prompts/{id}", "method": "DELETE", "status": "404"]) == 1)
        #expect(value(exposition, "inctrl_http_request_duration_seconds_count", ["route": "/score"]) == 2)
        #expect(value(exposition, "inctrl_http_request_duration_seconds_sum", ["route": "/score"]) == 0.6)
        #expect(value(exposition, "inctrl_http_request_duration_seconds_bucket", ["route": "/score", "le": "0.25"]) == 1)
        #expect(value(exposition, "inctrl_http_request_duration_seconds_bucket", ["route": "/score", "le": "0.5"]) == 2)
    }

    @Test func clientsCannotCreateSeries() throws {
        let metrics = try ServiceMetrics(routePatterns: Self.routes)
        for index in 0..<50 {
            metrics.recordRequest(route: "/prompts/set-\(index)", method: "X-CUSTOM-\(index)", status: 404, duration: .zero)
            metrics.recordRequest(route: nil, method: "get", status: 1000 + index, duration: .zero)
        }
        let exposition = try exposition(metrics)
        let requestSeries = exposition.samples.filter { $0.name == "inctrl_http_requests_total" }
        #expect(requestSeries.count == 2)
        #expect(value(exposition, "inctrl_http_requests_total", ["route": "unmatched", "method": "OTHER", "status": "404"]) == 50)
        #expect(value(exposition, "inctrl_http_requests_total", ["route": "unmatched", "method": "OTHER", "status": "invalid"]) == 50)
        #expect(!metrics.render().contains("set-1"))
    }

    /// The method label is the method exactly for RFC 9110's methods and PATCH, spelled
    /// exactly so; anything else is `OTHER`.
    @Test func methodLabelsAreTheStandardMethodsOrOther() {
        let standard: Set = ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]
        let methods = Array(standard) + ["get", "Get", "PROPFIND", "QUERY", "", "GETS", "GE", "X-CUSTOM", "PATCH ", "DELETE\u{0}"]
        for method in methods {
            let label = RequestMetricShards.methodLabels[RequestMetricShards.methodIndex(method)]
            #expect(label == (standard.contains(method) ? method : "OTHER"), "\(method)")
        }
    }

    /// A counter's one-lookup update leaves a histogram family alone, as the two-lookup one
    /// did: no series appears.
    @Test func scalarUpdatesLeaveAHistogramAlone() {
        var histogram = MetricFamily(name: "h", help: "h", type: .histogram(upperBounds: [1]), labelNames: ["a"])
        histogram.add(1, labelValues: ["x"])
        histogram.raise(to: 5, labelValues: ["x"])
        #expect(histogram.series.isEmpty)
        var counter = MetricFamily(name: "c_total", help: "c", type: .counter, labelNames: ["a"])
        counter.add(2, labelValues: ["x"])
        counter.add(0.5, labelValues: ["x"])
        counter.raise(to: 2, labelValues: ["x"])
        counter.raise(to: 4, labelValues: ["y"])
        guard case let .scalar(x)? = counter.series[["x"]], case let .scalar(y)? = counter.series[["y"]] else {
            Issue.record("missing series")
            return
        }
        #expect(x == 2.5 && y == 4 && counter.series.count == 2)
    }

    @Test func recordsModelWorkAndQueueing() throws {
        let metrics = try ServiceMetrics(routePatterns: Self.routes)
        metrics.recordQueueWait(.milliseconds(3))
        metrics.recordInference(.score, duration: .milliseconds(120))
        metrics.recordInference(.promptSet, duration: .seconds(1))
        metrics.recordInference(.textFeatures, duration: .milliseconds(40))
        metrics.setQueueDepth(4)
        metrics.requestStarted()
        metrics.requestStarted()
        metrics.requestFinished()
        metrics.setPromptSetCount(12)
        metrics.setOpenConnections(7)
        metrics.recordRejection(.queueFull)
        metrics.recordRejection(.queueFull)
        metrics.recordRejection(.shuttingDown)
        metrics.recordBatch(size: 1)
        metrics.recordBatch(size: 3)
        metrics.recordBatch(size: 8)
        let exposition = try exposition(metrics)
        #expect(value(exposition, "inctrl_batch_size_count") == 3)
        #expect(value(exposition, "inctrl_batch_size_sum") == 12)
        #expect(value(exposition, "inctrl_batch_size_bucket", ["le": "1"]) == 1)
        #expect(value(exposition, "inctrl_batch_size_bucket", ["le": "2"]) == 1)
        #expect(value(exposition, "inctrl_batch_size_bucket", ["le": "3"]) == 2)
        #expect(value(exposition, "inctrl_batch_size_bucket", ["le": "8"]) == 3)
        #expect(value(exposition, "inctrl_queue_wait_seconds_count") == 1)
        #expect(value(exposition, "inctrl_queue_wait_seconds_bucket", ["le": "0.005"]) == 1)
        #expect(value(exposition, "inctrl_inference_duration_seconds_sum", ["operation": "score"]) == 0.12)
        #expect(value(exposition, "inctrl_inference_duration_seconds_count", ["operation": "prompt_set"]) == 1)
        #expect(value(exposition, "inctrl_inference_duration_seconds_count", ["operation": "text_features"]) == 1)
        #expect(value(exposition, "inctrl_queue_depth") == 4)
        #expect(value(exposition, "inctrl_requests_in_flight") == 1)
        #expect(value(exposition, "inctrl_prompt_sets") == 12)
        #expect(value(exposition, "inctrl_open_connections") == 7)
        #expect(value(exposition, "inctrl_rejected_requests_total", ["reason": "queue_full"]) == 2)
        #expect(value(exposition, "inctrl_rejected_requests_total", ["reason": "shutting_down"]) == 1)
    }

    @Test func modelInfoNamesOnlyTheCurrentModel() throws {
        let metrics = try ServiceMetrics(routePatterns: Self.routes)
        metrics.setModel(name: "demo-tiny", precision: .fp32, demo: true)
        metrics.setModel(name: "ViT-B-16-plus-240", precision: .bf16, demo: false)
        let info = try exposition(metrics).samples.filter { $0.name == "inctrl_model_info" }
        #expect(info == [.init(name: "inctrl_model_info", labels: ["name": "ViT-B-16-plus-240", "precision": "bf16", "demo": "false"], value: 1)])
    }

    @Test func droppedLogLinesFollowTheWritersCountAndNeverGoDown() throws {
        let metrics = try ServiceMetrics(routePatterns: Self.routes)
        #expect(value(try exposition(metrics), "inctrl_log_lines_dropped_total") == 0)
        metrics.setLogLinesDropped(total: 5)
        #expect(value(try exposition(metrics), "inctrl_log_lines_dropped_total") == 5)
        metrics.setLogLinesDropped(total: 3)
        #expect(value(try exposition(metrics), "inctrl_log_lines_dropped_total") == 5)
        metrics.setLogLinesDropped(total: 9)
        #expect(value(try exposition(metrics), "inctrl_log_lines_dropped_total") == 9)
    }

    @Test func bucketsAreIncreasing() {
        for buckets in [ServiceMetrics.requestDurationBuckets, ServiceMetrics.queueWaitBuckets, ServiceMetrics.inferenceDurationBuckets] {
            #expect(zip(buckets, buckets.dropFirst()).allSatisfy { $0 < $1 })
        }
    }
}

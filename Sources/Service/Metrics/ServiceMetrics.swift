import Foundation
import Synchronization

/// The service's metrics, served at `GET /metrics` in the Prometheus text format 0.0.4.
///
/// Every family is declared here, by name, with base units (seconds) and bounded labels:
/// routes are the router's patterns (`/prompts/{id}`), never the ids in a path, and methods
/// and reasons come from fixed lists, so no client can create series at will.
public final class ServiceMetrics: Sendable {
    /// The registry the families live in; render it for `/metrics`.
    public let registry: PrometheusRegistry
    /// The route label given to requests whose route is not one of the declared patterns
    /// (404s, or a pattern the metrics were not told about).
    public static let unmatchedRoute = "unmatched"

    /// Each declared route pattern's index in `requestShards.routeLabels`.
    private let routeIndices: [String: Int]
    /// `inctrl_http_requests_total` and `inctrl_http_request_duration_seconds`, which every
    /// request updates: kept in shards, collected into the registry when it renders.
    private let requestShards: RequestMetricShards
    private let queueWait: PrometheusHistogram
    private let inferenceDuration: PrometheusHistogram
    private let batchSize: PrometheusHistogram
    private let queueDepth: PrometheusGauge
    /// Requests being handled now, read by the registry when it renders (it changes twice
    /// per request, so it is kept out of the registry's lock).
    private let requestsInFlight = Atomic<Int>(0)
    private let promptSets: PrometheusGauge
    private let openConnections: PrometheusGauge
    private let modelInfo: PrometheusGauge
    private let rejectedRequests: PrometheusCounter
    private let decisions: PrometheusCounter
    private let logLinesDropped: PrometheusCounter
    private let featureLookups: PrometheusCounter
    private let featureEvictions: PrometheusCounter
    private let residentFeatureSets: PrometheusGauge
    private let residentFeatureBytes: PrometheusGauge
    private let storeChanges: PrometheusCounter

    /// Where a prompt set's features came from when a request needed them.
    public enum FeatureSource: String, Sendable {
        /// Kept in this replica's memory.
        case memory
        /// Read from the store.
        case store
        /// Computed from the set's images (none stored for this model, or damaged).
        case computed
    }

    /// Bucket bounds, in seconds, for whole requests: from a cached health check to a
    /// prompt-set registration of many images.
    public static let requestDurationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
    /// Bucket bounds, in seconds, for time spent waiting for the model.
    public static let queueWaitBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
    /// Bucket bounds, in seconds, for model work: one forward pass takes about 0.1–0.4 s.
    public static let inferenceDurationBuckets = [0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2.5, 5, 10, 30, 60]

    /// Bucket bounds for the number of queries in one stacked vision forward (`max_batch`
    /// is 8 by default and at most 64).
    public static let batchSizeBuckets: [Double] = [1, 2, 3, 4, 5, 6, 7, 8, 16, 32, 64]

    /// Registers the service's families in a new registry.
    /// - Parameter routePatterns: The router's path patterns (`/score`, `/prompts/{id}`);
    ///   requests on any other route are counted under `unmatchedRoute`.
    /// - Throws: Only if a declaration below is wrong, which the tests would show.
    public init(routePatterns: Set<String>) throws(MetricsRegistrationError) {
        let registry = PrometheusRegistry()
        self.registry = registry
        let routeLabels = routePatterns.sorted() + [Self.unmatchedRoute]
        routeIndices = Dictionary(uniqueKeysWithValues: routeLabels.dropLast().enumerated().map { ($1, $0) })
        // Two shards per CPU: every event loop and cooperative thread gets one of its own.
        let shards = RequestMetricShards(
            routeLabels: routeLabels, upperBounds: Self.requestDurationBuckets,
            shardCount: min(64, max(4, 2 * ProcessInfo.processInfo.activeProcessorCount)))
        requestShards = shards
        let requests = try registry.counter(
            "inctrl_http_requests_total", help: "HTTP requests answered, by route pattern, method and status code.",
            labelNames: ["route", "method", "status"])
        let requestDuration = try registry.histogram(
            "inctrl_http_request_duration_seconds",
            help: "Time from a request's arrival to its response being handed to the connection, by route pattern.",
            labelNames: ["route"], buckets: Self.requestDurationBuckets)
        registry.collecting([requests.family, requestDuration.family]) {
            let series = shards.series()
            return [series.requests, series.durations]
        }
        queueWait = try registry.histogram(
            "inctrl_queue_wait_seconds", help: "Time requests waited in the queue in front of the model.",
            buckets: Self.queueWaitBuckets)
        inferenceDuration = try registry.histogram(
            "inctrl_inference_duration_seconds", help: "Time the model spent on one piece of work, by operation.",
            labelNames: ["operation"], buckets: Self.inferenceDurationBuckets)
        batchSize = try registry.histogram(
            "inctrl_batch_size", help: "Queries in each vision forward the model ran (dynamic batching; 1: alone).",
            buckets: Self.batchSizeBuckets)
        queueDepth = try registry.gauge("inctrl_queue_depth", help: "Requests waiting for the model now.")
        promptSets = try registry.gauge("inctrl_prompt_sets", help: "Prompt sets stored.")
        openConnections = try registry.gauge("inctrl_open_connections", help: "Client connections open now.")
        modelInfo = try registry.gauge(
            "inctrl_model_info", help: "The model being served (always 1; the labels carry the information).",
            labelNames: ["name", "precision", "demo"])
        rejectedRequests = try registry.counter(
            "inctrl_rejected_requests_total", help: "Requests refused before any work was done for them, by reason.",
            labelNames: ["reason"])
        decisions = try registry.counter(
            "inctrl_decisions_total",
            help: "Scored images by decision: anomalous, normal, or undecided (the set has no threshold).",
            labelNames: ["outcome"])
        logLinesDropped = try registry.counter(
            "inctrl_log_lines_dropped_total",
            help: "Log lines dropped because the log buffer was full (standard error was read more slowly than lines were written).")
        featureLookups = try registry.counter(
            "inctrl_feature_lookups_total",
            help: "Prompt-set features needed by a request, by where they came from: memory, the store, or computed from the images.",
            labelNames: ["source"])
        featureEvictions = try registry.counter(
            "inctrl_feature_evictions_total", help: "Prompt sets whose features were let go from memory to stay within feature_cache_bytes.")
        residentFeatureSets = try registry.gauge("inctrl_feature_cache_sets", help: "Prompt sets whose features are in this replica's memory.")
        residentFeatureBytes = try registry.gauge(
            "inctrl_feature_cache_bytes", help: "Bytes of prompt-set features in this replica's memory (at most feature_cache_bytes, or one set).")
        storeChanges = try registry.counter(
            "inctrl_store_changes_total",
            help: "Changes other replicas made to the shared store that this replica followed, by kind (resynchronize: after notices may have been missed).",
            labelNames: ["kind"])
        // Weak: the registry holds the sampler, and this object holds the registry.
        try registry.gauge("inctrl_requests_in_flight", help: "Requests being handled now.") { [weak self] in
            Double(self?.requestsInFlight.load(ordering: .relaxed) ?? 0)
        }
    }

    /// The registry in the text exposition format, for `GET /metrics`.
    public func render() -> String {
        registry.render()
    }

    /// The content type of `render()`'s text.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// A route as the request metrics count it, looked up once (``route(_:)``) for callers
    /// that record the same route on every request.
    public struct Route: Sendable {
        fileprivate let index: Int
    }

    /// `pattern`'s route for ``recordRequest(route:method:status:duration:)``; nil or a
    /// pattern the metrics were not told about is the unmatched route.
    public func route(_ pattern: String?) -> Route {
        Route(index: pattern.flatMap { routeIndices[$0] } ?? requestShards.routeLabels.count - 1)
    }

    /// Counts one answered request and how long it took.
    /// - Parameters:
    ///   - route: The pattern of the route that matched, or nil when none did.
    ///   - method: The request method; methods outside RFC 9110's list count as `OTHER`.
    public func recordRequest(route: String?, method: String, status: Int, duration: Duration) {
        recordRequest(route: self.route(route), method: method, status: status, duration: duration)
    }

    /// Counts one answered request on `route` and how long it took, as
    /// ``recordRequest(route:method:status:duration:)`` with the route's pattern does.
    public func recordRequest(route: Route, method: String, status: Int, duration: Duration) {
        requestShards.record(
            route: route.index, method: RequestMetricShards.methodIndex(method), status: status, seconds: duration.inSeconds)
    }

    /// Records how long a request waited for the model.
    public func recordQueueWait(_ duration: Duration) {
        queueWait.observe(duration)
    }

    /// Records how long the model spent on `operation`.
    public func recordInference(_ operation: InferenceOperation, duration: Duration) {
        inferenceDuration.observe(duration, labelValues: [operation.rawValue])
    }

    /// Records one vision forward of `size` queries.
    public func recordBatch(size: Int) {
        batchSize.observe(Double(size))
    }

    /// Sets the number of requests waiting for the model.
    public func setQueueDepth(_ depth: Int) {
        queueDepth.set(Double(depth))
    }

    /// Notes that a request started being handled; pair with `requestFinished()`.
    public func requestStarted() {
        requestsInFlight.add(1, ordering: .relaxed)
    }

    /// Notes that a request finished being handled.
    public func requestFinished() {
        requestsInFlight.subtract(1, ordering: .relaxed)
    }

    /// Sets the number of prompt sets stored.
    public func setPromptSetCount(_ count: Int) {
        promptSets.set(Double(count))
    }

    /// Counts one request's need for a prompt set's features, by where they came from.
    public func recordFeatureLookup(_ source: FeatureSource) {
        featureLookups.increment(labelValues: [source.rawValue])
    }

    /// Counts prompt sets whose features were let go from memory.
    public func recordFeatureEvictions(_ count: Int) {
        if count > 0 { featureEvictions.increment(by: Double(count)) }
    }

    /// Sets how many prompt sets' features, and how many bytes, are in memory.
    public func setResidentFeatures(sets: Int, bytes: Int) {
        residentFeatureSets.set(Double(sets))
        residentFeatureBytes.set(Double(bytes))
    }

    /// Counts a change another replica made that this one followed.
    public func recordStoreChange(_ change: PromptSetChange) {
        let kind = switch change {
        case .created: "created"
        case .deleted: "deleted"
        case .changed: "changed"
        case .resynchronize: "resynchronize"
        }
        storeChanges.increment(labelValues: [kind])
    }

    /// Sets the number of client connections open.
    public func setOpenConnections(_ count: Int) {
        openConnections.set(Double(count))
    }

    /// Names the model being served; replaces any model named before.
    public func setModel(name: String, precision: ServiceConfiguration.Precision, demo: Bool) {
        modelInfo.removeAllSeries()
        modelInfo.set(1, labelValues: [name, precision.rawValue, demo ? "true" : "false"])
    }

    /// Counts a request refused for `reason`.
    public func recordRejection(_ reason: RejectionReason) {
        rejectedRequests.increment(labelValues: [reason.rawValue])
    }

    /// Counts one decision: `anomalous` true, false, or nil when there was no threshold.
    public func recordDecision(_ anomalous: Bool?) {
        decisions.increment(labelValues: [anomalous.map { $0 ? "anomalous" : "normal" } ?? "undecided"])
    }

    /// Sets the count of dropped log lines to `total`, the writer's own count since start
    /// (read when `/metrics` is scraped, so logging itself never touches the registry).
    public func setLogLinesDropped(total: Int) {
        logLinesDropped.advance(to: Double(total))
    }

    /// The kinds of model work timed separately.
    public enum InferenceOperation: String, Sendable, CaseIterable {
        /// Scoring one query image: its vision forward pass and the InCTRL heads.
        case score
        /// Encoding the normal images of a prompt set at registration.
        case promptSet = "prompt_set"
        /// Encoding the text prompts of a class name.
        case textFeatures = "text_features"
    }

    /// Why a request was refused before any work was done for it.
    public enum RejectionReason: String, Sendable, CaseIterable {
        /// The queue in front of the model was full (429).
        case queueFull = "queue_full"
        /// The model is not loaded yet (503).
        case notReady = "not_ready"
        /// The server is shutting down (503).
        case shuttingDown = "shutting_down"
        /// The client went over its rate limit (429).
        case rateLimited = "rate_limited"
    }
}

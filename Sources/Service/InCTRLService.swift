import CLIP
import Dispatch
import Foundation
import HTTP1
import Imaging
import InCTRL
import Logging
import Synchronization

/// The scoring service: the HTTP routes of `openapi.yaml` over the prompt-set registry, the
/// shared model actor and the metrics (docs/ARCHITECTURE.md walks a request through it).
///
/// Start-up is two steps so the process answers `/healthz` at once: `init` opens nothing
/// slow; ``load()`` loads the model and opens the registry, which restores every stored
/// prompt set, and only then does `/readyz` answer 200.
public final class InCTRLService: Sendable {
    /// The effective configuration.
    public let configuration: ServiceConfiguration
    /// Where log lines go.
    public let logger: Logger
    /// The Prometheus metrics served at `/metrics`.
    public let metrics: ServiceMetrics
    /// The one owner of prompt-set state.
    public let registry: PromptSetRegistry
    /// Whether the store can serve, for readiness.
    let storeAvailability: StoreAvailability
    /// The API keys the server accepts; nil when `api_keys_file` is empty (every route open).
    public let keyring: APIKeyring?
    /// The per-client rate limit; nil when `rate_limit_per_s` is 0.
    let rateLimiter: RateLimiter?
    /// Where audit events go (registrations, deletions, threshold changes, key reloads).
    let auditLogger: Logger
    /// The writer behind `logger`, whose dropped-line count `/metrics` reports; nil when the
    /// log lines go elsewhere (tests).
    let logWriter: LogWriter?
    /// Where each request's access-log line goes (through `logWriter` when there is one).
    let accessLog: AccessLog

    /// Decoding and pre-processing of query images, under the configured limits.
    let pipeline: ImagePipeline
    /// Query images being decoded, counted against the model queue's capacity.
    let decodingQueries = DecodingQueries()
    private let server = Mutex<ServerObservation?>(nil)

    /// What the service reads from the HTTP server it runs in.
    private struct ServerObservation {
        weak var server: HTTPServer?
    }

    /// The routes, by pattern (also the metrics' route labels).
    static let routePatterns: Set<String> = [
        "/", "/healthz", "/readyz", "/metrics", "/openapi.yaml", "/prompts", "/prompts/{id}", "/prompts/{id}/calibration",
        "/prompts/{id}/threshold", "/score", "/score/batch",
    ]

    /// A service over `configuration` with the file store in its data directory; nothing is
    /// loaded yet (`logWriter`: the writer `logger`'s lines go through, if any). A
    /// configuration whose `store` names a database is refused: that store lives in the
    /// `PostgresStore` module, which the caller builds and passes to
    /// ``init(configuration:store:logger:)`` (as `inctrl serve` does).
    public convenience init(configuration: ServiceConfiguration, logger: Logger, logWriter: LogWriter? = nil) throws {
        guard configuration.storeLocation == .file else {
            throw ConfigurationError.invalidValue(
                key: "store", source: .defaultValue,
                reason: "names a database (\(configuration.storeLocation.redacted)); build a PostgresStore and pass it to InCTRLService(configuration:store:logger:)")
        }
        try self.init(
            configuration: configuration, store: FileStore(dataDirectory: URL(fileURLWithPath: configuration.dataDirectory)),
            logger: logger, logWriter: logWriter)
    }

    /// A service over `configuration` keeping its prompt sets in `store`; nothing is loaded yet.
    /// `logWriter` is the writer `logger`'s lines go through, if any: `/metrics` reports
    /// the lines it dropped.
    public init(configuration: ServiceConfiguration, store: any PromptSetStore, logger: Logger, logWriter: LogWriter? = nil) throws {
        self.configuration = configuration
        self.logger = logger
        self.logWriter = logWriter
        accessLog = AccessLog(logger: logger, writer: logWriter, format: configuration.logFormat)
        storeAvailability = StoreAvailability(store: store)
        var auditLogger = logger
        auditLogger[metadataKey: "log"] = "audit"
        self.auditLogger = auditLogger
        keyring = configuration.apiKeysFile.isEmpty ? nil : try APIKeyring(path: configuration.apiKeysFile)
        rateLimiter = configuration.rateLimitPerSecond > 0
            ? RateLimiter(rate: configuration.rateLimitPerSecond, burst: configuration.rateLimitBurst) : nil
        metrics = try ServiceMetrics(routePatterns: Self.routePatterns)
        registry = PromptSetRegistry(
            store: store,
            limits: PromptSetLimits(
                maxSets: configuration.maxPromptSets, maxImagesPerSet: configuration.maxImagesPerSet,
                maxImageBytes: configuration.maxImageBytes, maxCalibrationImages: configuration.maxCalibrationImages,
                featureBytes: configuration.featureCacheBytes),
            metrics: metrics, logger: logger)
        pipeline = ImagePipeline(limits: ImageLimits(
            maxPixels: configuration.maxImagePixels, maxEncodedBytes: configuration.maxImageBytes))
    }

    /// The server this service answers for: `/metrics` reads its open connections, and
    /// once it begins shutting down, requests that would start model work are refused.
    public func runs(in server: HTTPServer) {
        self.server.withLock { $0 = ServerObservation(server: server) }
    }

    /// Refuses new model work once the server is shutting down: requests already admitted
    /// finish within the grace period, new ones are told to go elsewhere.
    func refuseIfShuttingDown() throws(APIError) {
        if server.withLock({ $0?.server?.isShuttingDown }) == true {
            metrics.recordRejection(.shuttingDown)
            throw APIError(.shuttingDown, "The server is shutting down and takes no new work; retry on another instance.")
        }
    }

    /// Loads the model and opens the registry over the store, restoring every stored prompt
    /// set; after this the service is ready. The model's SHA-256 (its identity, which keys
    /// the feature cache) comes from `<data_dir>/model-hashes.json` when the weights file is
    /// unchanged since it was last hashed. A failure is logged and leaves `/readyz` at 503
    /// for good.
    public func load() async throws {
        let started = DispatchTime.now()
        do {
            let bundle = try ModelBundle.open(URL(fileURLWithPath: configuration.model))
            let dataDirectory = URL(fileURLWithPath: configuration.dataDirectory)
            let model = try InCTRLModel(
                bundle: bundle, precision: configuration.precision, hashCache: ModelHashCache(dataDirectory: dataDirectory))
            if let reason = model.weightsDigest.notCached {
                logger.warning("the model's SHA-256 could not be cached; the next start hashes it again", metadata: ["reason": "\(reason)"])
            }
            let actor = ModelActor(
                model: model, capacity: configuration.queueSize,
                batching: ModelActor.Batching(
                    maxBatch: configuration.maxBatch, window: .nanoseconds(Int64(configuration.batchWindowMilliseconds * 1e6))),
                onBatch: { [metrics] size in metrics.recordBatch(size: size) })
            metrics.setModel(name: model.info.name, precision: configuration.precision, demo: model.info.demo)
            if model.info.demo {
                logger.warning(
                    "serving a DEMO model with random weights: scores are NOT meaningful",
                    metadata: ["model": "\(model.info.name)"])
            }
            if let warning = exposureWarning {
                logger.critical("\(warning)")
            }
            let summary = try await registry.open(model: actor, pipeline: pipeline)
            for leftover in summary.store.leftovers {
                logger.warning("removed an unfinished write from an earlier run", metadata: ["entry": "\(leftover.name)"])
            }
            for entry in summary.store.quarantined {
                logger.error(
                    "quarantined a damaged prompt set",
                    metadata: ["entry": "\(entry.name)", "reason": "\(entry.reason)", "moved_to": "\(entry.location?.path ?? "-")"])
            }
            // Logged before the registry answers ready, so a client that sees /readyz answer
            // 200 also finds the line.
            logger.info(
                "ready",
                metadata: [
                    "model": "\(model.info.name)", "precision": "\(model.info.precision)", "demo": "\(model.info.demo)",
                    "model_hash": "\(model.weightsDigest.reused ? "cached" : "computed")",
                    "store": "\(storeDescription)", "prompt_sets": "\(summary.store.loaded.count)",
                    "from_cache": "\(summary.restored)", "recomputed": "\(summary.recomputed)",
                    "quarantined": "\(summary.store.quarantined.count + summary.dropped)",
                    "seconds": "\(String(format: "%.2f", Duration.since(started).inSeconds))",
                ])
            // Written out before the registry answers ready, so a client that sees /readyz
            // answer 200 also finds every start-up line (quarantines, the ready line) logged.
            logWriter?.flush()
            await registry.markReady()
        } catch {
            logger.critical("start-up failed; the service stays unready", metadata: ["error": "\(error)"])
            throw error
        }
    }

    /// Where prompt sets are kept, as logged: the data directory, or the database URL with
    /// its password replaced.
    public var storeDescription: String {
        switch configuration.storeLocation {
        case .file: "file:" + configuration.dataDirectory
        case .postgres: configuration.storeLocation.redacted
        }
    }

    /// Said at start and in `/readyz` when the server listens beyond loopback without keys.
    var exposureWarning: String? {
        guard keyring == nil, !ServiceConfiguration.isLoopback(configuration.host) else { return nil }
        return "UNAUTHENTICATED on \(configuration.host): anyone who reaches the port can register, score and delete prompt sets (allow_unauthenticated is set)"
    }

    /// Current gauges, and counts kept outside the registry, read when `/metrics` is scraped.
    func refreshGauges() async {
        if let model = try? await registry.model() { metrics.setQueueDepth(model.queueDepth) }
        if let server = server.withLock({ $0?.server }) { metrics.setOpenConnections(server.openConnectionCount) }
        metrics.setPromptSetCount(await registry.count)
        if let logWriter { metrics.setLogLinesDropped(total: logWriter.droppedLineCount) }
    }
}

import CLIP
import Dispatch
import Foundation
import HTTP1
import Imaging
import InCTRL
import Logging
import Synchronization
import Tensor

/// The scoring service (DESIGN.md §1, §4.3–4.4): prompt-set store, feature cache, the shared
/// model actor, metrics and the HTTP routes over them.
///
/// Start-up is two steps so the process answers `/healthz` at once: `init` opens nothing
/// slow; ``load()`` opens the store, loads the model and restores every prompt set's features
/// (from the feature cache, or recomputed), and only then does `/readyz` answer 200.
public final class InCTRLService: Sendable {
    /// The effective configuration.
    public let configuration: ServiceConfiguration
    /// Where log lines go.
    public let logger: Logger
    /// The Prometheus metrics served at `/metrics`.
    public let metrics: ServiceMetrics
    /// The durable prompt sets.
    public let store: PromptSetStore

    let pipeline: ImagePipeline
    let state = ServiceState()
    private let openConnections = Mutex<(@Sendable () -> Int)?>(nil)

    /// The routes, by pattern (also the metrics' route labels).
    static let routePatterns: Set<String> = [
        "/healthz", "/readyz", "/metrics", "/openapi.yaml", "/prompts", "/prompts/{id}", "/score",
    ]

    /// A service over `configuration`; nothing is loaded yet.
    public init(configuration: ServiceConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        metrics = try ServiceMetrics(routePatterns: Self.routePatterns)
        store = PromptSetStore(
            dataDirectory: URL(fileURLWithPath: configuration.dataDirectory),
            limits: PromptSetStore.Limits(
                maxSets: configuration.maxPromptSets, maxImagesPerSet: configuration.maxImagesPerSet,
                maxImageBytes: configuration.maxImageBytes))
        pipeline = ImagePipeline(limits: ImageLimits(
            maxPixels: configuration.maxImagePixels, maxEncodedBytes: configuration.maxImageBytes))
    }

    /// Tells `/metrics` how to read the server's open-connection count.
    public func reportOpenConnections(_ count: @escaping @Sendable () -> Int) {
        openConnections.withLock { $0 = count }
    }

    /// Opens the store, loads the model and restores every stored prompt set; after this
    /// the service is ready. A failure is logged and leaves `/readyz` at 503 for good.
    public func load() async throws {
        let started = DispatchTime.now()
        do {
            let report = try store.open()
            for leftover in report.leftovers {
                logger.warning("removed an unfinished write from an earlier run", metadata: ["entry": "\(leftover.name)"])
            }
            for entry in report.quarantined {
                logger.error(
                    "quarantined a damaged prompt set",
                    metadata: ["entry": "\(entry.name)", "reason": "\(entry.reason)", "moved_to": "\(entry.location?.path ?? "-")"])
            }

            let bundle = try ModelBundle.open(URL(fileURLWithPath: configuration.model))
            let model = try InCTRLModel(bundle: bundle, precision: configuration.precision)
            let actor = ModelActor(model: model, capacity: configuration.queueSize)
            metrics.setModel(name: model.info.name, precision: configuration.precision, demo: model.info.demo)
            if model.info.demo {
                logger.warning(
                    "serving a DEMO model with random weights: scores are NOT meaningful",
                    metadata: ["model": "\(model.info.name)"])
            }
            let cache = try FeatureCache(
                dataDirectory: URL(fileURLWithPath: configuration.dataDirectory), modelHash: model.identity,
                geometry: FeatureCache.Geometry(
                    tapLayers: model.config.tapLayers.count, patchesPerImage: model.config.vision.patchCount,
                    tapWidth: model.config.vision.width, embeddingWidth: model.config.embedDim))
            await state.attach(model: actor, cache: cache)

            var restored = 0, recomputed = 0
            for record in report.loaded {
                if try await restore(record, actor: actor, cache: cache) { restored += 1 } else { recomputed += 1 }
            }
            metrics.setPromptSetCount(store.count)
            logger.info(
                "ready",
                metadata: [
                    "model": "\(model.info.name)", "precision": "\(model.info.precision)", "demo": "\(model.info.demo)",
                    "data_dir": "\(configuration.dataDirectory)", "prompt_sets": "\(report.loaded.count)",
                    "from_cache": "\(restored)", "recomputed": "\(recomputed)", "quarantined": "\(report.quarantined.count)",
                    "seconds": "\(String(format: "%.2f", Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9))",
                ])
            // Logged first, so a client that sees /readyz answer 200 also finds the line.
            await state.markReady()
        } catch {
            await state.markFailed("\(error)")
            logger.critical("start-up failed; the service stays unready", metadata: ["error": "\(error)"])
            throw error
        }
    }

    /// Brings one stored prompt set back into memory; true when its features came from the cache.
    private func restore(_ record: PromptSetRecord, actor: ModelActor, cache: FeatureCache) async throws -> Bool {
        let prior = try await textPrior(record.className, actor: actor, cache: cache)
        if case let .hit(features) = cache.promptSetFeatures(for: record.id, shots: record.shots) {
            await state.insert(record.id, features: features, prior: prior)
            return true
        }
        let images = try store.imageBytes(record.id).map { bytes in try pipeline.prepare(bytes).tensor }
        let features = try await actor.promptSetFeatures(images: images).result
        try? cache.store(features, for: record.id)
        await state.insert(record.id, features: features, prior: prior)
        return false
    }

    /// The text prior of `className`: from the model actor's memory, the feature cache, or
    /// computed (and then cached on disk).
    func textPrior(_ className: String, actor: ModelActor, cache: FeatureCache) async throws -> TextPrior {
        if case let .hit(prior) = cache.textPrior(for: className) {
            await actor.cacheTextPrior(prior)
            return prior
        }
        let started = DispatchTime.now()
        let prior = try await actor.textPrior(className: className)
        metrics.recordInference(.textFeatures, duration: .since(started))
        try? cache.store(prior)
        return prior
    }

    /// Current gauges, read when `/metrics` is scraped.
    func refreshGauges() async {
        if let model = await state.model { metrics.setQueueDepth(model.queueDepth) }
        if let count = openConnections.withLock({ $0 }) { metrics.setOpenConnections(count()) }
        metrics.setPromptSetCount(store.isOpen ? store.count : 0)
    }
}

/// What changes while the service runs: readiness, the model, and the in-memory features of
/// every registered prompt set.
actor ServiceState {
    enum Phase {
        case starting
        case ready
        case failed(String)
    }

    struct Entry {
        let features: PromptSetFeatures
        let prior: TextPrior
    }

    private(set) var phase = Phase.starting
    private(set) var model: ModelActor?
    private(set) var cache: FeatureCache?
    private var promptSets: [PromptSetID: Entry] = [:]

    func attach(model: ModelActor, cache: FeatureCache) {
        self.model = model
        self.cache = cache
    }

    func markReady() { phase = .ready }

    func markFailed(_ reason: String) { phase = .failed(reason) }

    var isReady: Bool {
        if case .ready = phase { return true }
        return false
    }

    /// The model and cache once ready; otherwise the 503 to answer with.
    func ready() throws(APIError) -> (model: ModelActor, cache: FeatureCache) {
        guard case .ready = phase, let model, let cache else { throw APIError.notReady(retryAfterSeconds: 1) }
        return (model, cache)
    }

    func insert(_ id: PromptSetID, features: PromptSetFeatures, prior: TextPrior) {
        promptSets[id] = Entry(features: features, prior: prior)
    }

    func entry(_ id: PromptSetID) -> Entry? { promptSets[id] }

    func remove(_ id: PromptSetID) { promptSets[id] = nil }
}

extension Duration {
    /// The time elapsed since `start`.
    static func since(_ start: DispatchTime) -> Duration {
        .nanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds))
    }
}

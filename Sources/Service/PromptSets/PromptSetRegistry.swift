import Foundation
import InCTRL
import Logging
import Synchronization

/// The one owner of prompt-set state: the registered sets' records, their derived features
/// and the class names' text priors in memory, and the limits on all of them. Routes ask it;
/// the ``PromptSetStore`` behind it keeps what must survive a restart; ``ModelActor`` only
/// computes.
///
/// A registration is reserved before any work is done for it (``register(className:images:)``):
/// the limits, a duplicate and a full registry are answered at once, then the features are
/// computed and the set stored, and only then is it committed and served. A registration that
/// fails releases its reservation. Identical registrations running at once share one
/// computation, and so do first requests for one class name's text prior.
public actor PromptSetRegistry {
    /// A registered set, as scoring needs it.
    public struct Entry: Sendable {
        /// What the store keeps.
        public let record: PromptSetRecord
        /// The features of its images.
        public let features: PromptSetFeatures
        /// The text prior of its class name.
        public let prior: TextPrior
        /// Its normal images as scored, from which its thresholds come.
        public let calibration: Calibration
    }

    /// The outcome of a registration.
    public struct Registration: Sendable {
        /// The registered set.
        public let entry: Entry
        /// Its record.
        public var record: PromptSetRecord { entry.record }
        /// False when the same set was registered before (or by a request running at once).
        public let created: Bool
    }

    /// What the registry computes with once open.
    struct Compute: Sendable {
        let model: ModelActor
        let pipeline: ImagePipeline
        let key: DerivedFeatureKey
    }

    /// What the HTTP server's head check may read without awaiting the actor: whether the
    /// registry serves, and the ids it serves. Published by the registry on every change.
    private nonisolated let published = Mutex<(serving: Bool, ids: Set<PromptSetID>, model: ModelActor?)>((false, [], nil))

    /// Where sets are kept across restarts.
    public nonisolated let store: any PromptSetStore
    /// What the registry accepts.
    public nonisolated let limits: PromptSetLimits
    let metrics: ServiceMetrics
    let logger: Logger

    /// Set by ``open(model:pipeline:)``.
    var compute: Compute?
    /// Set by ``markReady()``; until then every request is answered not ready.
    var serving = false
    var entries: [PromptSetID: Entry] = [:]
    /// Registrations reserved and computing; they count against ``PromptSetLimits/maxSets``.
    var reservations: [PromptSetID: Task<Entry, Error>] = [:]
    /// Deletions under way, which a registration of the same set waits for.
    var deletions: [PromptSetID: Task<Bool, Error>] = [:]
    /// The last change under way to each set's record (calibration images, threshold);
    /// the next change waits for it, so no change is lost.
    var changes: [PromptSetID: Task<Void, Never>] = [:]
    /// Text priors being found or computed, by class name; once a set is committed its
    /// entry holds its class name's prior, so no other copy is kept.
    var pendingTextPriors: [String: Task<TextPrior, Error>] = [:]
    /// Text priors computed by the model (not restored from the store or shared).
    var textPriorsComputed = 0

    /// A registry over `store`; nothing is read until ``open(model:pipeline:)``.
    public init(store: any PromptSetStore, limits: PromptSetLimits, metrics: ServiceMetrics, logger: Logger) {
        self.store = store
        self.limits = limits
        self.metrics = metrics
        self.logger = logger
    }

    /// True once the registry is open and ``markReady()`` was called.
    public var isReady: Bool { serving && compute != nil }

    /// Starts answering requests; call after ``open(model:pipeline:)``.
    public func markReady() {
        serving = compute != nil
        publish()
    }

    /// Whether `id` is registered: nil while the registry is not serving (or for a text that
    /// is no id, false), for checks that must not wait for the actor.
    public nonisolated func isKnown(_ id: PromptSetID?) -> Bool? {
        published.withLock { state in
            guard state.serving else { return nil }
            return id.map(state.ids.contains) ?? false
        }
    }

    /// The model the registry computes with, once serving, for checks that must not wait
    /// for the actor (the queue's depth from a request's head).
    public nonisolated var servingModel: ModelActor? {
        published.withLock { $0.serving ? $0.model : nil }
    }

    /// Publishes the served ids and the model for ``isKnown(_:)`` and ``servingModel``.
    func publish() {
        let ids = Set(entries.keys)
        published.withLock { $0 = (serving, ids, compute?.model) }
    }

    /// The model the registry computes with, once open.
    public func model() throws(PromptSetRegistryError) -> ModelActor {
        try ready().model
    }

    /// The number of registered sets.
    public var count: Int { entries.count }

    /// The set `id`, as scoring needs it.
    public func entry(_ id: PromptSetID) throws(PromptSetRegistryError) -> Entry {
        _ = try ready()
        guard let entry = entries[id] else { throw .notFound(id) }
        return entry
    }

    /// The record of the set `id`.
    public func record(_ id: PromptSetID) throws(PromptSetRegistryError) -> PromptSetRecord {
        try entry(id).record
    }

    /// Every registered set, oldest first (ties in id order).
    public func records() throws(PromptSetRegistryError) -> [PromptSetRecord] {
        try allEntries().map(\.record)
    }

    /// Every registered set's entry, oldest first (ties in id order).
    public func allEntries() throws(PromptSetRegistryError) -> [Entry] {
        _ = try ready()
        return entries.values.sorted { ($0.record.createdAt, $0.record.id) < ($1.record.createdAt, $1.record.id) }
    }

    /// Deletes the set `id` from memory and from the store.
    public func delete(_ id: PromptSetID) async throws {
        _ = try ready()
        if let deletion = deletions[id] {
            guard try await deletion.value else { throw PromptSetRegistryError.notFound(id) }
            return
        }
        guard let entry = entries.removeValue(forKey: id) else { throw PromptSetRegistryError.notFound(id) }
        metrics.setPromptSetCount(entries.count)
        publish()
        let store = self.store
        let deletion = Task { try await store.delete(id) }
        deletions[id] = deletion
        defer { deletions[id] = nil }
        do {
            _ = try await deletion.value
        } catch {
            // Still stored, so still served.
            entries[id] = entry
            metrics.setPromptSetCount(entries.count)
            publish()
            throw error
        }
    }

    func ready() throws(PromptSetRegistryError) -> Compute {
        guard serving, let compute else { throw .notReady }
        return compute
    }
}

import Foundation
import InCTRL
import Logging
import Synchronization

/// The one owner of prompt-set state: the registered sets' records, their calibrations and
/// the class names' text priors, the features of the sets most recently used (within
/// `feature_cache_bytes`, ``ResidentFeatures``), and the limits on all of them. Routes ask
/// it; the ``PromptSetStore`` behind it keeps what must survive a restart; ``ModelActor``
/// only computes.
///
/// A registration is reserved before any work is done for it (``register(className:images:)``):
/// the limits, a duplicate and a full registry are answered at once, then the features are
/// computed and the set stored, and only then is it committed and served. A registration that
/// fails releases its reservation. Identical registrations running at once share one
/// computation, and so do first requests for one class name's text prior and first uses of
/// one set whose features are not in memory.
///
/// Features are loaded when a set is first used, not at start: from the store when it holds
/// them for this model, else computed again from the set's images and written back. Over a
/// ``SharedPromptSetStore`` (replicas over one database) the registry also follows the other
/// replicas' changes (``PromptSetChange``), and a set it has not heard of yet is looked up in
/// the store before it is called unknown.
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

        /// What describing the set needs.
        public var summary: Summary { Summary(record: record, calibration: calibration) }
    }

    /// A registered set, as listing and describing it need: no features.
    public struct Summary: Sendable {
        /// What the store keeps.
        public let record: PromptSetRecord
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

    /// What the registry knows of a set besides its features: its record and, once found
    /// or computed, its text prior and calibration (nil for a set heard of from another
    /// replica, or whose calibration images another replica changed, until first used).
    struct Known: Sendable {
        var record: PromptSetRecord
        var derived: Derived?
    }

    /// A set's text prior and calibration.
    struct Derived: Sendable {
        let prior: TextPrior
        let calibration: Calibration
    }

    /// What the HTTP server's head check may read without awaiting the actor: whether the
    /// registry serves, the ids it knows, whether others may have registered sets it has
    /// not heard of yet, and the model. Published by the registry on every change.
    private nonisolated let published = Mutex<(serving: Bool, ids: Set<PromptSetID>, shared: Bool, model: ModelActor?)>(
        (false, [], false, nil))

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
    /// Every registered set.
    var sets: [PromptSetID: Known] = [:]
    /// The features of the sets most recently used.
    var resident: ResidentFeatures
    /// Sets being loaded (features and calibration found or computed), which other
    /// requests for the same set wait for.
    var loads: [PromptSetID: Task<Entry, Error>] = [:]
    /// Registrations reserved and computing; they count against ``PromptSetLimits/maxSets``.
    var reservations: [PromptSetID: Task<Entry, Error>] = [:]
    /// Deletions under way, which a registration of the same set waits for.
    var deletions: [PromptSetID: Task<Bool, Error>] = [:]
    /// The last change under way to each set's record (calibration images, threshold);
    /// the next change waits for it, so no change is lost.
    var changes: [PromptSetID: Task<Void, Never>] = [:]
    /// Text priors being found or computed, by class name; once a set is loaded it holds
    /// its class name's prior, so no other copy is kept.
    var pendingTextPriors: [String: Task<TextPrior, Error>] = [:]
    /// Text priors computed by the model (not restored from the store or shared).
    var textPriorsComputed = 0
    /// Follows the other replicas' changes, over a shared store.
    var follower: Task<Void, Never>?

    /// A registry over `store`; nothing is read until ``open(model:pipeline:)``.
    public init(store: any PromptSetStore, limits: PromptSetLimits, metrics: ServiceMetrics, logger: Logger) {
        self.store = store
        self.limits = limits
        resident = ResidentFeatures(capacity: limits.featureBytes)
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

    /// Whether `id` is registered, for checks that must not wait for the actor: nil when
    /// that cannot be told yet (the registry is not serving, or another replica may have
    /// registered it a moment ago), false for a text that is no id.
    public nonisolated func isKnown(_ id: PromptSetID?) -> Bool? {
        published.withLock { state in
            guard state.serving else { return nil }
            guard let id else { return false }
            if state.ids.contains(id) { return true }
            return state.shared ? nil : false
        }
    }

    /// The model the registry computes with, once serving, for checks that must not wait
    /// for the actor (the queue's depth from a request's head).
    public nonisolated var servingModel: ModelActor? {
        published.withLock { $0.serving ? $0.model : nil }
    }

    /// Publishes the served ids and the model for ``isKnown(_:)`` and ``servingModel``.
    func publish() {
        let ids = Set(sets.keys)
        let shared = store is any SharedPromptSetStore
        published.withLock { $0 = (serving, ids, shared, compute?.model) }
        metrics.setPromptSetCount(sets.count)
    }

    /// The model the registry computes with, once open.
    public func model() throws(PromptSetRegistryError) -> ModelActor {
        try ready().model
    }

    /// The number of registered sets.
    public var count: Int { sets.count }

    /// The set `id`, as scoring needs it: its features loaded if they are not in memory.
    public func entry(_ id: PromptSetID) async throws -> Entry {
        let compute = try ready()
        try await discover(id)
        guard let known = sets[id] else { throw PromptSetRegistryError.notFound(id) }
        if let derived = known.derived, let features = resident.use(id) {
            metrics.recordFeatureLookup(.memory)
            return Entry(record: known.record, features: features, prior: derived.prior, calibration: derived.calibration)
        }
        return try await load(id, compute: compute)
    }

    /// The set `id`, as describing it needs (its features are not loaded for this).
    public func summary(_ id: PromptSetID) async throws -> Summary {
        let compute = try ready()
        try await discover(id)
        guard let known = sets[id] else { throw PromptSetRegistryError.notFound(id) }
        if let derived = known.derived { return Summary(record: known.record, calibration: derived.calibration) }
        return try await findDerived(id, compute: compute)
    }

    /// The record of the set `id`.
    public func record(_ id: PromptSetID) async throws -> PromptSetRecord {
        try await summary(id).record
    }

    /// Every registered set's record, oldest first (ties in id order).
    public func records() throws(PromptSetRegistryError) -> [PromptSetRecord] {
        _ = try ready()
        return sets.values.map(\.record).sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    /// Every registered set, oldest first (ties in id order).
    public func summaries() async throws -> [Summary] {
        var summaries: [Summary] = []
        for record in try records() {
            do {
                summaries.append(try await summary(record.id))
            } catch PromptSetRegistryError.notFound {
                // Deleted while the others were read.
            }
        }
        return summaries
    }

    /// Deletes the set `id` from memory and from the store.
    public func delete(_ id: PromptSetID) async throws {
        _ = try ready()
        if let deletion = deletions[id] {
            guard try await deletion.value else { throw PromptSetRegistryError.notFound(id) }
            return
        }
        try await discover(id)
        guard let known = sets.removeValue(forKey: id) else { throw PromptSetRegistryError.notFound(id) }
        publish()
        let store = self.store
        let deletion = Task { try await store.delete(id) }
        deletions[id] = deletion
        defer { deletions[id] = nil }
        do {
            _ = try await deletion.value
            forgetFeatures(of: id)
        } catch {
            // Still stored, so still served.
            if sets[id] == nil { sets[id] = known }
            publish()
            throw error
        }
    }

    func ready() throws(PromptSetRegistryError) -> Compute {
        guard serving, let compute else { throw .notReady }
        return compute
    }
}

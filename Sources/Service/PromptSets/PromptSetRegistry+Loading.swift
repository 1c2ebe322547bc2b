import Dispatch
import InCTRL

extension PromptSetRegistry {
    /// What ``open(model:pipeline:)`` found and did.
    public struct LoadSummary: Sendable {
        /// What the store reported: sets found, leftovers removed, damaged entries set aside.
        public let store: StoreLoadReport
        /// Sets whose calibration came from the store (their features are read on first use).
        public let restored: Int
        /// Sets computed again from their images (nothing stored for this model, or damaged).
        public let recomputed: Int
        /// Sets the store found but that could not be brought back (damaged images).
        public let dropped: Int
    }

    /// Opens the store and brings every stored set back with `model`: its record, text prior
    /// and calibration from the store when it holds them for this model and precision, else
    /// everything computed again from the stored images (and stored again). Features are not
    /// read here but on each set's first use, so a start costs little however many sets are
    /// stored. Until this returns, every request is not ready.
    public func open(model: ModelActor, pipeline: ImagePipeline) async throws -> LoadSummary {
        let config = model.model.config
        let compute = Compute(
            model: model, pipeline: pipeline,
            key: DerivedFeatureKey(
                modelIdentity: model.model.identity,
                geometry: FeatureGeometry(
                    tapLayers: config.tapLayers.count, patchesPerImage: config.vision.patchCount,
                    tapWidth: config.vision.width, embeddingWidth: config.embedDim)))
        let report = try await store.open()
        var restored = 0, recomputed = 0, dropped = 0
        for record in report.loaded {
            sets[record.id] = Known(record: record, derived: nil)
            do {
                if try await restore(record.id, compute: compute) { restored += 1 } else { recomputed += 1 }
            } catch let error as PromptSetStoreError {
                guard case .damaged = error else { throw error }
                logger.error("dropped a damaged prompt set", metadata: ["id": "\(record.id.hex)", "error": "\(error)"])
                sets[record.id] = nil
                dropped += 1
            }
        }
        self.compute = compute
        publish()
        if let shared = store as? any SharedPromptSetStore { follow(shared) }
        return LoadSummary(store: report, restored: restored, recomputed: recomputed, dropped: dropped)
    }

    /// Finds the set `id`'s text prior and calibration; true when they came from the store,
    /// false when everything had to be computed from its images.
    private func restore(_ id: PromptSetID, compute: Compute) async throws -> Bool {
        if try await storedDerived(id, compute: compute) != nil { return true }
        _ = try await load(id, compute: compute)
        return false
    }

    /// The set `id`'s text prior and calibration: from the store when it holds a calibration
    /// for this model and for the set's current images, else the whole set loaded
    /// (``load(_:compute:)``).
    func findDerived(_ id: PromptSetID, compute: Compute) async throws -> Summary {
        guard let known = sets[id] else { throw PromptSetRegistryError.notFound(id) }
        if let derived = known.derived { return Summary(record: known.record, calibration: derived.calibration) }
        if loads[id] == nil, let found = try await storedDerived(id, compute: compute) { return found }
        return try await load(id, compute: compute).summary
    }

    /// The set `id`'s calibration as stored for this model (with its class name's text
    /// prior), now kept in memory; nil when the store holds none for the set's current
    /// calibration images.
    private func storedDerived(_ id: PromptSetID, compute: Compute) async throws -> Summary? {
        guard let known = sets[id] else { throw PromptSetRegistryError.notFound(id) }
        let prior = try await textPrior(known.record.className, compute: compute)
        let lookup = await store.calibration(of: known.record, key: compute.key)
        if let reason = lookup.discardedReason {
            logger.warning("recomputing damaged prompt-set data", metadata: ["id": "\(id.hex)", "reason": "\(reason)"])
        }
        guard let calibration = lookup.value, var current = sets[id], current.record.images == known.record.images,
              current.record.calibrationImages == known.record.calibrationImages
        else { return nil }
        current.derived = Derived(prior: prior, calibration: calibration)
        sets[id] = current
        return Summary(record: current.record, calibration: calibration)
    }

    /// Loads the set `id` for scoring; requests for one set arriving meanwhile share the work.
    func load(_ id: PromptSetID, compute: Compute) async throws -> Entry {
        if let pending = loads[id] { return try await pending.value }
        let work = Task { try await self.loadNow(id, compute: compute) }
        loads[id] = work
        defer { loads[id] = nil }
        return try await work.value
    }

    /// Brings the set `id`'s features (and text prior and calibration, if missing) into
    /// memory: from the store when it holds them for this model, else computed from the
    /// stored images and written back for the next replica or start.
    private func loadNow(_ id: PromptSetID, compute: Compute) async throws -> Entry {
        guard let known = sets[id] else { throw PromptSetRegistryError.notFound(id) }
        let record = known.record
        let prior: TextPrior
        if let known = known.derived?.prior { prior = known } else { prior = try await textPrior(record.className, compute: compute) }
        var features = resident.use(id)
        var calibration = known.derived?.calibration
        var source = ServiceMetrics.FeatureSource.memory
        if features == nil {
            let lookup = await store.features(of: record, key: compute.key)
            features = lookup.value
            source = .store
            if let reason = lookup.discardedReason {
                logger.warning("recomputing damaged prompt-set data", metadata: ["id": "\(id.hex)", "reason": "\(reason)"])
            }
        }
        if calibration == nil {
            let lookup = await store.calibration(of: record, key: compute.key)
            calibration = lookup.value
            if let reason = lookup.discardedReason {
                logger.warning("recomputing damaged prompt-set data", metadata: ["id": "\(id.hex)", "reason": "\(reason)"])
            }
        }
        if features == nil || calibration == nil {
            let images = try await store.images(of: record)
            let calibrationImages = try await store.calibrationImages(of: record)
            let derived = try await derive(images: images, calibrationImages: calibrationImages, prior: prior, compute: compute)
            await keep(derived.0, derived.1, of: id, key: compute.key)
            features = derived.0
            calibration = derived.1
            source = .computed
        }
        guard let features, let calibration else { throw PromptSetRegistryError.notFound(id) }
        metrics.recordFeatureLookup(source)
        // A deletion may have come while loading; a change of threshold keeps what was loaded,
        // a change of calibration images makes the calibration found again on next use.
        guard var current = sets[id], current.record.images == record.images else { throw PromptSetRegistryError.notFound(id) }
        if current.record.calibrationImages == record.calibrationImages {
            current.derived = Derived(prior: prior, calibration: calibration)
            sets[id] = current
        }
        keepFeatures(features, of: id)
        return Entry(record: current.record, features: features, prior: prior, calibration: calibration)
    }

    /// Keeps `features` in memory as the most recently used.
    func keepFeatures(_ features: PromptSetFeatures, of id: PromptSetID) {
        let evicted = resident.put(features, for: id)
        metrics.recordFeatureEvictions(evicted)
        metrics.setResidentFeatures(sets: resident.count, bytes: resident.bytes)
    }

    /// Lets the features of `id` go from memory.
    func forgetFeatures(of id: PromptSetID) {
        resident.remove(id)
        metrics.setResidentFeatures(sets: resident.count, bytes: resident.bytes)
    }
}

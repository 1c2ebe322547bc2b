import Dispatch
import InCTRL

extension PromptSetRegistry {
    /// What ``open(model:pipeline:)`` found and did.
    public struct LoadSummary: Sendable {
        /// What the store reported: sets found, leftovers removed, damaged entries set aside.
        public let store: StoreLoadReport
        /// Sets whose features came from the store.
        public let restored: Int
        /// Sets whose features were computed again (none stored for this model, or damaged).
        public let recomputed: Int
        /// Sets the store found but that could not be brought back (damaged images).
        public let dropped: Int
    }

    /// Opens the store and brings every stored set back into memory with `model`: features
    /// from the store when it holds them for this model and precision, else recomputed from
    /// the stored images (and stored again). Until this returns, every request is not ready.
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
            do {
                if try await restore(record, compute: compute) { restored += 1 } else { recomputed += 1 }
            } catch let error as PromptSetStoreError {
                guard case .damaged = error else { throw error }
                logger.error("dropped a damaged prompt set", metadata: ["id": "\(record.id.hex)", "error": "\(error)"])
                dropped += 1
            }
        }
        self.compute = compute
        metrics.setPromptSetCount(entries.count)
        return LoadSummary(store: report, restored: restored, recomputed: recomputed, dropped: dropped)
    }

    /// Brings one stored set back; true when its features and calibration came from the store.
    private func restore(_ record: PromptSetRecord, compute: Compute) async throws -> Bool {
        let prior = try await textPrior(record.className, compute: compute)
        let features = await store.features(of: record, key: compute.key)
        let calibration = await store.calibration(of: record, key: compute.key)
        for reason in [features.discardedReason, calibration.discardedReason].compactMap({ $0 }) {
            logger.warning("recomputing damaged prompt-set data", metadata: ["id": "\(record.id.hex)", "reason": "\(reason)"])
        }
        if let features = features.value, let calibration = calibration.value {
            entries[record.id] = Entry(record: record, features: features, prior: prior, calibration: calibration)
            return true
        }
        let images = try await store.images(of: record)
        let calibrationImages = try await store.calibrationImages(of: record)
        let (derivedFeatures, derivedCalibration) = try await derive(
            images: images, calibrationImages: calibrationImages, prior: prior, compute: compute)
        await keep(derivedFeatures, derivedCalibration, of: record.id, key: compute.key)
        entries[record.id] = Entry(record: record, features: derivedFeatures, prior: prior, calibration: derivedCalibration)
        return false
    }
}

import Dispatch
import Foundation
import InCTRL
import Tensor

extension PromptSetRegistry {
    /// Registers the set of `className` and `images` (in order), or finds it registered.
    ///
    /// In order: the limits are checked and the id derived (once); a set registered before,
    /// or being registered by another request, is returned as it is; a registry holding (or
    /// reserving) ``PromptSetLimits/maxSets`` sets refuses at once. Only then is the id
    /// reserved and the work done: the images decoded, the class name's text prior found or
    /// computed, the features computed and the set stored. The set is served from the
    /// moment it is committed; a failure anywhere releases the reservation.
    public func register(className: String, images: [[UInt8]]) async throws -> Registration {
        try limits.validate(className: className, images: images)
        let compute = try ready()
        let id = PromptSetID(className: className, images: images)
        if let deletion = deletions[id] { _ = try? await deletion.value }
        try await discover(id)
        if sets[id] != nil { return Registration(entry: try await entry(id), created: false) }
        if let pending = reservations[id] {
            return Registration(entry: try await pending.value, created: false)
        }
        guard sets.count + reservations.count < limits.maxSets else {
            throw PromptSetRegistryError.full(limit: limits.maxSets)
        }

        let work = Task { try await self.build(id: id, className: className, images: images, compute: compute) }
        reservations[id] = work
        defer { reservations[id] = nil }
        let entry = try await work.value
        sets[id] = Known(record: entry.record, derived: Derived(prior: entry.prior, calibration: entry.calibration))
        keepFeatures(entry.features, of: id)
        publish()
        return Registration(entry: entry, created: true)
    }

    /// Computes and stores a reserved set.
    private func build(id: PromptSetID, className: String, images: [[UInt8]], compute: Compute) async throws -> Entry {
        let prior = try await textPrior(className, compute: compute)
        let (features, calibration) = try await derive(images: images, calibrationImages: [], prior: prior, compute: compute)
        let stored = try await store.save(PromptSetRecord(id: id, className: className, images: images), images: images)
        await keep(features, calibration, of: id, key: compute.key)
        return Entry(record: stored, features: features, prior: prior, calibration: calibration)
    }

    /// Everything derived from a set's images: its features and its calibration (the shots
    /// leave-one-out, then each calibration image against the whole set).
    func derive(
        images: [[UInt8]], calibrationImages: [[UInt8]], prior: TextPrior, compute: Compute
    ) async throws -> (PromptSetFeatures, Calibration) {
        let tensors = try await prepare(images, compute: compute)
        let ((features, leaveOneOut), timing) = try await compute.model.promptSetFeatures(images: tensors, leaveOneOutWith: prior)
        metrics.recordQueueWait(.seconds(timing.queue))
        metrics.recordInference(.promptSet, duration: .seconds(timing.compute))
        let shots = leaveOneOut.map { Calibration.Observation(score: $0.score, residualMap: $0.residualMap) }
        let extra = try await score(calibrationImages, against: features, prior: prior, compute: compute)
        return (features, Calibration(shots: shots, extra: extra))
    }

    /// Decodes and pre-processes images off the event loops and the cooperative pool.
    func prepare(_ images: [[UInt8]], compute: Compute) async throws -> [Tensor] {
        try await offload { [pipeline = compute.pipeline] in try images.map { try pipeline.prepare($0).tensor } }
    }

    /// Normal images scored against a set's features, as calibration observations.
    func score(_ images: [[UInt8]], against features: PromptSetFeatures, prior: TextPrior, compute: Compute) async throws -> [Calibration.Observation] {
        guard !images.isEmpty else { return [] }
        let tensors = try await prepare(images, compute: compute)
        let (results, timing) = try await compute.model.score(images: tensors, promptSet: features, textPrior: prior)
        metrics.recordQueueWait(.seconds(timing.queue))
        metrics.recordInference(.score, duration: .seconds(timing.compute))
        return results.map { Calibration.Observation(score: $0.score, residualMap: $0.residualMap) }
    }

    /// Stores derived data for the next start; a failure only costs a recomputation then.
    func keep(_ features: PromptSetFeatures?, _ calibration: Calibration, of id: PromptSetID, key: DerivedFeatureKey) async {
        do {
            if let features { try await store.saveFeatures(features, of: id, key: key) }
            try await store.saveCalibration(calibration, of: id, key: key)
        } catch {
            logger.warning("could not keep derived prompt-set data", metadata: ["id": "\(id.hex)", "error": "\(error)"])
        }
    }

    /// The text prior of `className`: from a registered set of that class name, from the
    /// store, or computed by the model (and then stored). Requests that arrive while it is
    /// being found share that work.
    func textPrior(_ className: String, compute: Compute) async throws -> TextPrior {
        if let prior = sets.values.first(where: { $0.record.className == className && $0.derived != nil })?.derived?.prior {
            return prior
        }
        if let pending = pendingTextPriors[className] { return try await pending.value }
        let store = self.store
        let work = Task { () async throws -> TextPrior in
            if case let .hit(prior) = await store.textPrior(className: className, key: compute.key) { return prior }
            self.textPriorsComputed += 1
            let (prior, timing) = try await compute.model.textPrior(className: className)
            self.metrics.recordInference(.textFeatures, duration: .seconds(timing.compute))
            do {
                try await store.saveTextPrior(prior, key: compute.key)
            } catch {
                self.logger.warning("could not keep a text prior", metadata: ["class_name": "\(className)", "error": "\(error)"])
            }
            return prior
        }
        pendingTextPriors[className] = work
        defer { pendingTextPriors[className] = nil }
        return try await work.value
    }
}

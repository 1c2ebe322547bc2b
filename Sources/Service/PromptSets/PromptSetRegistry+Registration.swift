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
        if let entry = entries[id] { return Registration(record: entry.record, created: false) }
        if let pending = reservations[id] {
            return Registration(record: try await pending.value.record, created: false)
        }
        guard entries.count + reservations.count < limits.maxSets else {
            throw PromptSetRegistryError.full(limit: limits.maxSets)
        }

        let work = Task { try await self.build(id: id, className: className, images: images, compute: compute) }
        reservations[id] = work
        defer { reservations[id] = nil }
        let entry = try await work.value
        entries[id] = entry
        metrics.setPromptSetCount(entries.count)
        logger.info(
            "registered prompt set",
            metadata: ["id": "\(id.hex)", "class_name": "\(className)", "shots": "\(entry.record.shots)"])
        return Registration(record: entry.record, created: true)
    }

    /// Computes and stores a reserved set.
    private func build(id: PromptSetID, className: String, images: [[UInt8]], compute: Compute) async throws -> Entry {
        let tensors = try await offload { [pipeline = compute.pipeline] in try images.map { try pipeline.prepare($0).tensor } }
        let prior = try await textPrior(className, compute: compute)
        let features = try await promptSetFeatures(tensors, compute: compute)
        let stored = try await store.save(PromptSetRecord(id: id, className: className, images: images), images: images)
        await keep(features, of: id, key: compute.key)
        return Entry(record: stored, features: features, prior: prior)
    }

    /// The features of a set's prepared images, computed by the model.
    func promptSetFeatures(_ images: [Tensor], compute: Compute) async throws -> PromptSetFeatures {
        let (features, timing) = try await compute.model.promptSetFeatures(images: images)
        metrics.recordQueueWait(.seconds(timing.queue))
        metrics.recordInference(.promptSet, duration: .seconds(timing.compute))
        return features
    }

    /// Stores features for the next start; a failure only costs a recomputation then.
    func keep(_ features: PromptSetFeatures, of id: PromptSetID, key: DerivedFeatureKey) async {
        do {
            try await store.saveFeatures(features, of: id, key: key)
        } catch {
            logger.warning("could not keep prompt-set features", metadata: ["id": "\(id.hex)", "error": "\(error)"])
        }
    }

    /// The text prior of `className`: from a registered set of that class name, from the
    /// store, or computed by the model (and then stored). Requests that arrive while it is
    /// being found share that work.
    func textPrior(_ className: String, compute: Compute) async throws -> TextPrior {
        if let entry = entries.values.first(where: { $0.record.className == className }) { return entry.prior }
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

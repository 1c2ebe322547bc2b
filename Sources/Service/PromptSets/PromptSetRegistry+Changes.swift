import InCTRL

extension PromptSetRegistry {
    /// Adds normal images to the set `id`'s calibration: each is scored against the whole
    /// set, stored with the set, and the set's threshold follows from then on.
    public func addCalibrationImages(_ images: [[UInt8]], to id: PromptSetID) async throws -> Entry {
        let compute = try ready()
        try limits.validate(images: images)
        return try await change(id) { entry in
            let total = entry.record.calibrationImages.count + images.count
            guard total <= self.limits.maxCalibrationImages else {
                throw PromptSetRegistryError.tooManyCalibrationImages(count: total, limit: self.limits.maxCalibrationImages)
            }
            let observations = try await self.score(images, against: entry.features, prior: entry.prior, compute: compute)
            var record = entry.record
            record.calibrationImages += images.map(StoredPromptImage.init(describing:))
            try await self.store.update(record, newCalibrationImages: images)
            let calibration = Calibration(shots: entry.calibration.shots, extra: entry.calibration.extra + observations)
            await self.keep(nil, calibration, of: id, key: compute.key)
            return Entry(record: record, features: entry.features, prior: entry.prior, calibration: calibration)
        }
    }

    /// Sets (or, with nil, removes) the set `id`'s manual threshold, which wins over the
    /// calibrated one; it is stored with the set.
    public func setManualThreshold(_ threshold: Float?, of id: PromptSetID) async throws -> Entry {
        _ = try ready()
        if let threshold, !(0...1).contains(threshold) { throw PromptSetRegistryError.invalidThreshold(threshold) }
        return try await change(id) { entry in
            var record = entry.record
            record.manualThreshold = threshold
            try await self.store.update(record, newCalibrationImages: [])
            return Entry(record: record, features: entry.features, prior: entry.prior, calibration: entry.calibration)
        }
    }

    /// Serves `entry` as its set's current state, unless a deletion came meanwhile (which wins).
    private func commit(_ entry: Entry) {
        guard sets[entry.record.id] != nil else { return }
        sets[entry.record.id] = Known(record: entry.record, derived: Derived(prior: entry.prior, calibration: entry.calibration))
        keepFeatures(entry.features, of: entry.record.id)
    }

    /// Runs `body` on the set `id`'s current entry after every earlier change to it, and
    /// serves what it returns.
    private func change(_ id: PromptSetID, _ body: @escaping @Sendable (Entry) async throws -> Entry) async throws -> Entry {
        let previous = changes[id]
        let work = Task { () async throws -> Entry in
            await previous?.value
            let changed = try await body(try await self.entry(id))
            self.commit(changed)
            return changed
        }
        let done = Task { _ = try? await work.value }
        changes[id] = done
        defer { if changes[id] == done { changes[id] = nil } }
        return try await work.value
    }
}

import InCTRL

extension PromptSetRegistry {
    /// Over a ``SharedPromptSetStore``: learns the set `id` from the store when this registry
    /// has not heard of it (another replica registered it a moment ago, and its notice has
    /// not arrived yet). Nothing to do over a store no other process writes.
    func discover(_ id: PromptSetID) async throws {
        guard sets[id] == nil, reservations[id] == nil, let shared = store as? any SharedPromptSetStore else { return }
        if let record = try await shared.record(id) { learn(record) }
    }

    /// Starts following the changes other replicas make to `shared`, until ``close()``.
    func follow(_ shared: any SharedPromptSetStore) {
        guard follower == nil else { return }
        let changes = shared.changes()
        follower = Task { [weak self] in
            for await change in changes {
                guard let self else { return }
                await self.apply(change)
            }
        }
    }

    /// Stops following other replicas' changes.
    public func close() {
        follower?.cancel()
        follower = nil
    }

    /// Brings this registry in line with a change another replica made: the set's record is
    /// read again from the store (the store, not the notice, is the truth, so notices that
    /// arrive late or twice do no harm), or every record after notices may have been lost.
    func apply(_ change: PromptSetChange) async {
        guard let shared = store as? any SharedPromptSetStore else { return }
        metrics.recordStoreChange(change)
        do {
            switch change {
            case let .created(id), let .changed(id):
                if let record = try await shared.record(id) { learn(record) } else { forget(id) }
            case let .deleted(id):
                forget(id)
            case .resynchronize:
                let records = try await shared.records()
                let stored = Set(records.map(\.id))
                for record in records { learn(record) }
                for id in sets.keys where !stored.contains(id) && reservations[id] == nil { forget(id) }
            }
        } catch {
            logger.warning(
                "could not follow another replica's change; the next resynchronisation will",
                metadata: ["change": "\(change)", "error": "\(error)"])
        }
    }

    /// Serves `record` as stored: a new set (features loaded on first use), a new manual
    /// threshold, or new calibration images (the calibration found again on next use).
    private func learn(_ record: PromptSetRecord) {
        guard deletions[record.id] == nil else { return }
        guard var known = sets[record.id] else {
            guard reservations[record.id] == nil else { return }
            sets[record.id] = Known(record: record, derived: nil)
            publish()
            return
        }
        guard known.record != record else { return }
        if known.record.calibrationImages != record.calibrationImages { known.derived = nil }
        known.record = record
        sets[record.id] = known
    }

    /// Stops serving the set `id`, which another replica deleted.
    private func forget(_ id: PromptSetID) {
        guard sets.removeValue(forKey: id) != nil else { return }
        forgetFeatures(of: id)
        publish()
    }
}

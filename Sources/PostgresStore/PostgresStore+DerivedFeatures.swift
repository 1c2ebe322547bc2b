import InCTRL
import Service
import Tensor

/// Derived data: rows of `derived_features` (per set, model and kind) and `text_priors` (per
/// class name and model), their payloads laid out as ``DerivedPayload`` describes. A row is
/// only ever looked up by its model, so one model's or precision's data never reaches
/// another; a row that fails its checks is deleted and reported as discarded. A lookup
/// that cannot reach the database misses: the caller recomputes.
extension PostgresStore {
    public func features(of record: PromptSetRecord, key: DerivedFeatureKey) async -> FeatureLookup<PromptSetFeatures> {
        let geometry = key.geometry
        let tapCount = geometry.patchesPerImage * record.shots * geometry.tapWidth
        let counts = Array(repeating: tapCount, count: geometry.tapLayers) + [geometry.embeddingWidth]
        return await lookup(record.id, key: key, kind: "features", shots: record.shots, extra: 0, counts: counts) { arrays in
            let tapShape = [geometry.patchesPerImage * record.shots, geometry.tapWidth]
            // `lookup` checked the counts, so each tap fits its shape.
            let taps = arrays.dropLast().map { try! Tensor(shape: tapShape, scalars: $0) }
            return PromptSetFeatures(shots: record.shots, normalizedTaps: Array(taps), prototype: arrays[arrays.count - 1])
        }
    }

    public func saveFeatures(_ features: PromptSetFeatures, of id: PromptSetID, key: DerivedFeatureKey) async throws(PromptSetStoreError) {
        let geometry = key.geometry
        guard features.normalizedTaps.count == geometry.tapLayers else {
            throw .featureCache(.shapeMismatch(what: "tap layers", expected: [geometry.tapLayers], found: [features.normalizedTaps.count]))
        }
        let tapShape = [geometry.patchesPerImage * features.shots, geometry.tapWidth]
        for (layer, tap) in features.normalizedTaps.enumerated() where tap.shape != tapShape {
            throw .featureCache(.shapeMismatch(what: "tap.\(layer)", expected: tapShape, found: tap.shape))
        }
        guard features.prototype.count == geometry.embeddingWidth else {
            throw .featureCache(.shapeMismatch(what: "prototype", expected: [geometry.embeddingWidth], found: [features.prototype.count]))
        }
        let payload = DerivedPayload.encode(features.normalizedTaps.map(\.scalars) + [features.prototype])
        try await keep(payload, of: id, key: key, kind: "features", shots: features.shots, extra: 0)
    }

    public func calibration(of record: PromptSetRecord, key: DerivedFeatureKey) async -> FeatureLookup<Calibration> {
        let patches = key.geometry.patchesPerImage
        // One set image cannot be scored leave-one-out, so a single shot has no observation.
        let shots = record.shots >= 2 ? record.shots : 0
        let extra = record.calibrationImages.count
        let count = shots + extra
        return await lookup(record.id, key: key, kind: "calibration", shots: shots, extra: extra, counts: [count, count * patches]) { arrays in
            let observations = (0..<count).map { index in
                Calibration.Observation(score: arrays[0][index], residualMap: Array(arrays[1][(index * patches)..<((index + 1) * patches)]))
            }
            return Calibration(shots: Array(observations[..<shots]), extra: Array(observations[shots...]))
        }
    }

    public func saveCalibration(_ calibration: Calibration, of id: PromptSetID, key: DerivedFeatureKey) async throws(PromptSetStoreError) {
        let patches = key.geometry.patchesPerImage
        for observation in calibration.observations where observation.residualMap.count != patches {
            throw .featureCache(.shapeMismatch(what: "calibration residual map", expected: [patches], found: [observation.residualMap.count]))
        }
        let payload = DerivedPayload.encode([calibration.observations.map(\.score), calibration.observations.flatMap(\.residualMap)])
        try await keep(payload, of: id, key: key, kind: "calibration", shots: calibration.shots.count, extra: calibration.extra.count)
    }

    public func textPrior(className: String, key: DerivedFeatureKey) async -> FeatureLookup<TextPrior> {
        guard isOpen else { return .miss }
        let width = key.geometry.embeddingWidth
        let model = key.modelIdentity
        let row = try? await run("read a text prior") { connection throws(PostgresError) -> (payload: [UInt8], sha256: String)? in
            let rows = try connection.execute(
                "SELECT payload, sha256 FROM text_priors WHERE class_name = $1 AND model = $2", [.text(className), .text(model)])
            return rows.isEmpty ? nil : (try rows.bytes(0, 0), try rows.text(0, 1))
        }
        guard let (payload, sha256) = row else { return .miss }
        if let reason = Self.defect(payload, sha256: sha256, counts: [width, width]) {
            _ = try? await run("discard a text prior") { connection throws(PostgresError) in
                try connection.execute("DELETE FROM text_priors WHERE class_name = $1 AND model = $2", [.text(className), .text(model)]).affected
            }
            return .discarded(reason: "text prior of '\(className)' for model \(model): \(reason)")
        }
        let arrays = DerivedPayload.decode(payload, counts: [width, width])!
        return .hit(TextPrior(className: className, normal: arrays[0], anomalous: arrays[1]))
    }

    public func saveTextPrior(_ prior: TextPrior, key: DerivedFeatureKey) async throws(PromptSetStoreError) {
        let width = key.geometry.embeddingWidth
        for (name, vector) in [("normal", prior.normal), ("anomalous", prior.anomalous)] where vector.count != width {
            throw .featureCache(.shapeMismatch(what: "text prior '\(name)'", expected: [width], found: [vector.count]))
        }
        let payload = DerivedPayload.encode([prior.normal, prior.anomalous])
        let model = key.modelIdentity
        _ = try await run("keep a text prior") { connection throws(PostgresError) in
            try connection.execute(
                """
                INSERT INTO text_priors (class_name, model, payload, sha256) VALUES ($1, $2, $3, $4)
                ON CONFLICT (class_name, model) DO UPDATE SET payload = excluded.payload, sha256 = excluded.sha256
                """,
                [.text(prior.className), .text(model), .bytes(payload), .text(DerivedPayload.digest(payload))]).affected
        }
    }

    /// Stores a derived row of set `id`, replacing the one of the same model and kind.
    private func keep(
        _ payload: [UInt8], of id: PromptSetID, key: DerivedFeatureKey, kind: String, shots: Int, extra: Int
    ) async throws(PromptSetStoreError) {
        let model = key.modelIdentity
        _ = try await run("keep the \(kind) of prompt set \(id)") { connection throws(PostgresError) in
            try connection.execute(
                """
                INSERT INTO derived_features (prompt_set, model, kind, shots, extra, payload, sha256)
                VALUES ($1, $2, $3, $4::int, $5::int, $6, $7)
                ON CONFLICT (prompt_set, model, kind) DO UPDATE SET
                    shots = excluded.shots, extra = excluded.extra, payload = excluded.payload, sha256 = excluded.sha256
                """,
                [.text(id.hex), .text(model), .text(kind), .int(shots), .int(extra), .bytes(payload), .text(DerivedPayload.digest(payload))]).affected
        }
    }

    /// The derived row of set `id`, model and `kind`, checked: it must have been computed
    /// for `shots` and `extra`, hold arrays of `counts` floats, and match its SHA-256.
    private func lookup<Value: Sendable>(
        _ id: PromptSetID, key: DerivedFeatureKey, kind: String, shots: Int, extra: Int, counts: [Int],
        decode: ([[Float]]) -> Value
    ) async -> FeatureLookup<Value> {
        guard isOpen else { return .miss }
        let model = key.modelIdentity
        let row = try? await run("read the \(kind) of prompt set \(id)") { connection throws(PostgresError) -> (Int, Int, [UInt8], String)? in
            let rows = try connection.execute(
                "SELECT shots::text, extra::text, payload, sha256 FROM derived_features WHERE prompt_set = $1 AND model = $2 AND kind = $3",
                [.text(id.hex), .text(model), .text(kind)])
            return rows.isEmpty ? nil : (try rows.int(0, 0), try rows.int(0, 1), try rows.bytes(0, 2), try rows.text(0, 3))
        }
        guard let (storedShots, storedExtra, payload, sha256) = row else { return .miss }
        let reason: String?
        if storedShots != shots || storedExtra != extra {
            reason = "it was computed for \(storedShots) shots and \(storedExtra) calibration images, the set has \(shots) and \(extra)"
        } else {
            reason = Self.defect(payload, sha256: sha256, counts: counts)
        }
        if let reason {
            _ = try? await run("discard the \(kind) of prompt set \(id)") { connection throws(PostgresError) in
                try connection.execute(
                    "DELETE FROM derived_features WHERE prompt_set = $1 AND model = $2 AND kind = $3",
                    [.text(id.hex), .text(model), .text(kind)]).affected
            }
            return .discarded(reason: "\(kind) of prompt set \(id) for model \(model): \(reason)")
        }
        return .hit(decode(DerivedPayload.decode(payload, counts: counts)!))
    }

    /// What is wrong with `payload`, or nil: its length must be that of `counts` floats and
    /// its SHA-256 `sha256`.
    private static func defect(_ payload: [UInt8], sha256: String, counts: [Int]) -> String? {
        let expected = counts.reduce(0, +) * 4
        if payload.count != expected { return "its payload has \(payload.count) bytes, the model's shapes need \(expected)" }
        if DerivedPayload.digest(payload) != sha256 { return "its payload does not match its SHA-256" }
        return nil
    }
}

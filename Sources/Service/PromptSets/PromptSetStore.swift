import InCTRL

/// Durable storage of prompt sets and of the features derived from them: what survives a
/// restart. ``PromptSetRegistry`` is its only caller and owns everything in memory (records,
/// features, text priors, limits); a store only keeps and returns bytes, faithfully.
///
/// ``FileStore`` (a data directory, the default) implements it; `PostgresStore` (module
/// `PostgresStore`, chosen by the `store` setting) implements the same methods without
/// touching the registry or the routes. The contract every backend keeps:
///
/// - ``save(_:images:)`` is all or nothing: after a crash at any moment the set is either
///   wholly stored (and returned by the next ``open()``) or not at all.
/// - Images come back from ``images(of:)`` exactly as saved, each checked against the size
///   and SHA-256 in its record; a set that fails the check is taken out of service and
///   reported as ``PromptSetStoreError/damaged(_:reason:)``.
/// - ``update(_:newCalibrationImages:)`` is all or nothing too, and never changes a set's id,
///   class name or images.
/// - Derived data (prompt-set features, calibrations and text priors) is a cache keyed by
///   ``DerivedFeatureKey``: the model bundle's SHA-256 and the precision. An entry stored
///   under one key is never returned under another, and an entry that fails verification is
///   discarded and reported as ``FeatureLookup/discarded(reason:)``, never returned.
/// - A backend that cannot reach its storage throws ``PromptSetStoreError/unavailable(reason:)``
///   (answered 503 `store_unavailable`): nothing was changed, and the call may be retried.
public protocol PromptSetStore: Sendable {
    /// Prepares the store and reports what it holds; called once, before anything else.
    func open() async throws(PromptSetStoreError) -> StoreLoadReport

    /// Whether the store can serve right now, for readiness: throws
    /// ``PromptSetStoreError/unavailable(reason:)`` while it cannot (a database that went
    /// away). A store that lives in this process needs nothing more than being open.
    func checkAvailable() async throws(PromptSetStoreError)

    /// Stores `record` and its `images` (in record order) durably. When a set with the same
    /// id is stored already, that one is kept and its record returned.
    func save(_ record: PromptSetRecord, images: [[UInt8]]) async throws(PromptSetStoreError) -> PromptSetRecord

    /// Deletes the set `id` and its derived features; false when no such set was stored.
    func delete(_ id: PromptSetID) async throws(PromptSetStoreError) -> Bool

    /// The images of `record` as stored, each checked against its size and SHA-256.
    func images(of record: PromptSetRecord) async throws(PromptSetStoreError) -> [[UInt8]]

    /// Replaces the record of a stored set (only its calibration images and manual
    /// threshold change), first storing `newCalibrationImages`: the bytes of the record's
    /// last calibration images. All or nothing.
    func update(_ record: PromptSetRecord, newCalibrationImages: [[UInt8]]) async throws(PromptSetStoreError)

    /// The calibration images of `record` as stored, each checked like ``images(of:)``.
    func calibrationImages(of record: PromptSetRecord) async throws(PromptSetStoreError) -> [[UInt8]]

    /// The features of the set `record` computed by the model `key` names.
    func features(of record: PromptSetRecord, key: DerivedFeatureKey) async -> FeatureLookup<PromptSetFeatures>

    /// Keeps the features of the set `id` computed by the model `key` names.
    func saveFeatures(_ features: PromptSetFeatures, of id: PromptSetID, key: DerivedFeatureKey) async throws(PromptSetStoreError)

    /// The calibration of the set `record` (its shots and its calibration images) computed by
    /// the model `key` names.
    func calibration(of record: PromptSetRecord, key: DerivedFeatureKey) async -> FeatureLookup<Calibration>

    /// Keeps the calibration of the set `id` computed by the model `key` names.
    func saveCalibration(_ calibration: Calibration, of id: PromptSetID, key: DerivedFeatureKey) async throws(PromptSetStoreError)

    /// The text prior of `className` computed by the model `key` names.
    func textPrior(className: String, key: DerivedFeatureKey) async -> FeatureLookup<TextPrior>

    /// Keeps a text prior computed by the model `key` names.
    func saveTextPrior(_ prior: TextPrior, key: DerivedFeatureKey) async throws(PromptSetStoreError)
}

extension PromptSetStore {
    /// A store in this process's own files is available once open.
    public func checkAvailable() async throws(PromptSetStoreError) {}
}

/// A ``PromptSetStore`` that several processes (replicas) use at once, each with its own
/// ``PromptSetRegistry``: each registry learns the others' changes from it, and looks up
/// sets it has not heard of yet. `PostgresStore` is one.
public protocol SharedPromptSetStore: PromptSetStore {
    /// The record stored under `id`, or nil when there is none.
    func record(_ id: PromptSetID) async throws(PromptSetStoreError) -> PromptSetRecord?

    /// Every stored record.
    func records() async throws(PromptSetStoreError) -> [PromptSetRecord]

    /// The changes other processes make from now on, in the order they were made, each
    /// reported within about a second; ``PromptSetChange/resynchronize`` whenever some may
    /// have been missed (and once at the start, for changes made before it). Ends when the
    /// caller stops iterating.
    func changes() -> AsyncStream<PromptSetChange>
}

import Foundation
import InCTRL
import Synchronization
import Tensor

/// The default ``PromptSetStore``: prompt sets as files under the configured data directory,
/// the images exactly as received plus a manifest per set, and their derived features in a
/// ``FeatureCache`` beside them.
///
/// ```
/// <data_dir>/prompt-sets/<id>/manifest.json      format, id, class name, created_at,
///                                                and per image: file, bytes, sha256, media type
/// <data_dir>/prompt-sets/<id>/images/<n>.<ext>   image n, byte for byte
/// <data_dir>/prompt-sets/<id>/calibration/<n>.<ext>  calibration image n, byte for byte
/// <data_dir>/quarantine/<name>-<time>/           a damaged entry moved aside, with reason.txt
/// <data_dir>/feature-cache/<model>/…             derived features (see FeatureCache)
/// ```
///
/// A new set is written whole into a staging directory (`.staging-<id>-<random>`), every file
/// and the directory fsynced, then renamed to `<id>` and the parent fsynced: the directory
/// rename is the commit point, so a crash leaves either no set or the complete set, and the
/// staging leftovers are removed by the next ``open()``. A delete renames the set to
/// `.trash-<id>-<random>` (the commit point), then removes it.
///
/// The store keeps no index of its own: the directory is the truth, and the registry above
/// it owns what is served. One process at a time may serve a data directory.
public final class FileStore: PromptSetStore {
    /// The configured data directory; the store owns `prompt-sets/`, `quarantine/` and
    /// `feature-cache/` in it.
    public let dataDirectory: URL

    /// The crash-test hook armed from the environment (see ``StoreFaultPoint``).
    let armedFaultPoint: StoreFaultPoint?
    let phase = Mutex(Phase.closed)
    /// The feature cache of each model seen, opened on first use.
    private let featureCaches = Mutex<[DerivedFeatureKey: FeatureCache]>([:])

    enum Phase { case closed, opening, open }

    static let stagingPrefix = ".staging-"
    static let trashPrefix = ".trash-"
    /// No stored image is read back if it is larger than this, whatever its manifest says.
    static let maxStoredImageBytes = 1 << 30

    /// A store over `dataDirectory`; nothing is read or created until ``open()``.
    public init(dataDirectory: URL) {
        self.dataDirectory = dataDirectory
        armedFaultPoint = StoreFaultPoint.fromEnvironment()
    }

    /// True once ``open()`` has finished.
    public var isOpen: Bool {
        phase.withLock { $0 == .open }
    }

    public func save(_ record: PromptSetRecord, images: [[UInt8]]) async throws(PromptSetStoreError) -> PromptSetRecord {
        try requireOpen()
        if let existing = try? self.record(record.id) { return existing }
        let stagingPath = try stage(record, images: images)
        do {
            return try commit(record, from: stagingPath)
        } catch {
            try? Disk.removeTree(stagingPath)
            throw error
        }
    }

    public func delete(_ id: PromptSetID) async throws(PromptSetStoreError) -> Bool {
        try requireOpen()
        let path = setPath(id)
        guard Disk.entryKind(path) != nil else { return false }
        let trashPath = setsPath + "/" + Self.trashPrefix + id.hex + "-" + Disk.uniqueSuffix()
        try Disk.rename(path, trashPath)
        try Disk.syncDirectory(setsPath)
        reach(.afterTrashRename)
        // The rename already deleted the set; a trash directory that cannot be removed now
        // is removed by the next open, and features left behind are only never read.
        try? Disk.removeTree(trashPath)
        for cache in featureCaches.withLock({ Array($0.values) }) { try? cache.removeFeatures(for: id) }
        return true
    }

    /// The images of `record` as stored, each checked against its size and SHA-256.
    ///
    /// A set found damaged is quarantined as ``open()`` would do, so that registering it
    /// again stores it afresh.
    public func images(of record: PromptSetRecord) async throws(PromptSetStoreError) -> [[UInt8]] {
        try requireOpen()
        guard Disk.entryKind(setPath(record.id)) != nil else { throw .notFound(record.id) }
        do {
            return try readImages(of: record, in: setPath(record.id))
        } catch {
            _ = quarantine(record.id.hex, reason: error.reason)
            throw .damaged(record.id, reason: error.reason)
        }
    }

    public func calibrationImages(of record: PromptSetRecord) async throws(PromptSetStoreError) -> [[UInt8]] {
        try requireOpen()
        guard Disk.entryKind(setPath(record.id)) != nil else { throw .notFound(record.id) }
        do {
            return try readImages(record.calibrationImages, at: PromptSetManifest.calibrationImagePath, in: setPath(record.id))
        } catch {
            _ = quarantine(record.id.hex, reason: error.reason)
            throw .damaged(record.id, reason: error.reason)
        }
    }

    /// Writes the new calibration images (fsynced), then the new manifest to a temporary
    /// file that is fsynced and renamed over the old one: the rename is the commit point, so
    /// a crash leaves the old record or the new one. A file left by an interrupted update is
    /// not listed in the manifest and is replaced by the next.
    public func update(_ record: PromptSetRecord, newCalibrationImages: [[UInt8]]) async throws(PromptSetStoreError) {
        try requireOpen()
        let directory = setPath(record.id)
        guard Disk.entryKind(directory) == .directory else { throw .notFound(record.id) }
        let first = record.calibrationImages.count - newCalibrationImages.count
        precondition(first >= 0, "the record lists fewer calibration images than are being added")
        if !newCalibrationImages.isEmpty {
            try Disk.makeDirectories(directory + "/calibration")
            for (offset, image) in newCalibrationImages.enumerated() {
                let path = directory + "/" + PromptSetManifest.calibrationImagePath(
                    index: first + offset, mediaType: record.calibrationImages[first + offset].mediaType)
                try? Disk.removeTree(path)
                try Disk.writeNewFile(path, image)
            }
            try Disk.syncDirectory(directory + "/calibration")
        }
        do {
            try AtomicFile.write(to: URL(fileURLWithPath: directory + "/manifest.json")) { try $0.write(PromptSetManifest(record).encoded()) }
        } catch {
            throw .fileSystem(operation: "write", path: directory + "/manifest.json", reason: "\(error)")
        }
        try Disk.syncDirectory(directory)
    }

    public func features(of record: PromptSetRecord, key: DerivedFeatureKey) async -> FeatureLookup<PromptSetFeatures> {
        guard let cache = try? featureCache(key) else { return .miss }
        return cache.promptSetFeatures(for: record.id, shots: record.shots)
    }

    public func saveFeatures(_ features: PromptSetFeatures, of id: PromptSetID, key: DerivedFeatureKey) async throws(PromptSetStoreError) {
        do {
            try featureCache(key).store(features, for: id)
        } catch {
            throw .featureCache(error)
        }
    }

    public func calibration(of record: PromptSetRecord, key: DerivedFeatureKey) async -> FeatureLookup<Calibration> {
        guard let cache = try? featureCache(key) else { return .miss }
        return cache.calibration(for: record.id, shots: record.shots, extra: record.calibrationImages.count)
    }

    public func saveCalibration(_ calibration: Calibration, of id: PromptSetID, key: DerivedFeatureKey) async throws(PromptSetStoreError) {
        do {
            try featureCache(key).store(calibration, for: id, shots: calibration.shots.isEmpty ? 1 : calibration.shots.count)
        } catch {
            throw .featureCache(error)
        }
    }

    public func textPrior(className: String, key: DerivedFeatureKey) async -> FeatureLookup<TextPrior> {
        guard let cache = try? featureCache(key) else { return .miss }
        return cache.textPrior(for: className)
    }

    public func saveTextPrior(_ prior: TextPrior, key: DerivedFeatureKey) async throws(PromptSetStoreError) {
        do {
            try featureCache(key).store(prior)
        } catch {
            throw .featureCache(error)
        }
    }

    /// The feature cache of the model `key` names, created (and cleared of interrupted
    /// writes) on first use.
    func featureCache(_ key: DerivedFeatureKey) throws(FeatureCacheError) -> FeatureCache {
        try featureCaches.withLock { caches throws(FeatureCacheError) in
            if let cache = caches[key] { return cache }
            let cache = try FeatureCache(dataDirectory: dataDirectory, key: key)
            caches[key] = cache
            return cache
        }
    }

    var setsPath: String { dataDirectory.appendingPathComponent("prompt-sets").path }
    var quarantinePath: String { dataDirectory.appendingPathComponent("quarantine").path }

    func setPath(_ id: PromptSetID) -> String { setsPath + "/" + id.hex }

    private func requireOpen() throws(PromptSetStoreError) {
        guard isOpen else { throw .notOpen }
    }

    /// The record of the set stored under `id`, read from its manifest.
    func record(_ id: PromptSetID) throws(PromptSetStoreError) -> PromptSetRecord {
        try requireOpen()
        guard Disk.entryKind(setPath(id)) == .directory else { throw .notFound(id) }
        do {
            let bytes = try Disk.readRegularFile(setPath(id) + "/manifest.json", maxBytes: PromptSetManifest.maxBytes)
            return try PromptSetManifest.decodeRecord(bytes, directoryName: id.hex)
        } catch let error as StoreDefect {
            throw .damaged(id, reason: error.reason)
        } catch {
            throw .damaged(id, reason: "manifest.json \(error)")
        }
    }

    /// Writes the whole set into a fresh staging directory, every file and directory
    /// fsynced, and returns its path. Nothing is visible under the set's id yet.
    private func stage(_ record: PromptSetRecord, images: [[UInt8]]) throws(PromptSetStoreError) -> String {
        let stagingPath = setsPath + "/" + Self.stagingPrefix + record.id.hex + "-" + Disk.uniqueSuffix()
        try Disk.makeDirectory(stagingPath)
        do {
            try Disk.makeDirectory(stagingPath + "/images")
            for (index, image) in images.enumerated() {
                try Disk.writeNewFile(stagingPath + "/" + PromptSetManifest.imagePath(index: index, mediaType: record.images[index].mediaType), image)
                if index == 0 { reach(.afterImageWrite) }
            }
            try Disk.writeNewFile(stagingPath + "/manifest.json", PromptSetManifest(record).encoded())
            reach(.afterManifestWrite)
            try Disk.syncDirectory(stagingPath + "/images")
            try Disk.syncDirectory(stagingPath)
        } catch {
            try? Disk.removeTree(stagingPath)
            throw error
        }
        reach(.beforeRename)
        return stagingPath
    }

    /// Renames the staged set into place, unless an identical set got there first (then its
    /// record is returned and the staging directory removed).
    private func commit(_ record: PromptSetRecord, from stagingPath: String) throws(PromptSetStoreError) -> PromptSetRecord {
        do {
            try Disk.rename(stagingPath, setPath(record.id))
        } catch {
            if let existing = try? self.record(record.id) {
                try? Disk.removeTree(stagingPath)
                return existing
            }
            throw error
        }
        reach(.afterRename)
        // Once renamed the set is complete and is served; a failed sync only leaves its
        // survival of a power loss in doubt, which the error reports.
        try Disk.syncDirectory(setsPath)
        return record
    }

    /// Ends the process here if this point is armed.
    func reach(_ point: StoreFaultPoint) {
        if armedFaultPoint == point { _exit(137) }
    }
}

import Foundation
import Synchronization
import Tensor

/// Durable storage of prompt sets: the images exactly as received plus a manifest per set,
/// under `<data_dir>/prompt-sets/<id>/` (DESIGN.md §4.4).
///
/// ```
/// <data_dir>/prompt-sets/<id>/manifest.json      format, id, class name, created_at,
///                                                and per image: file, bytes, sha256, media type
/// <data_dir>/prompt-sets/<id>/images/<n>.<ext>   image n, byte for byte
/// <data_dir>/quarantine/<name>-<time>/           a damaged entry moved aside, with reason.txt
/// ```
///
/// A new set is written whole into a staging directory (`.staging-<id>-<random>`), every file
/// and the directory fsynced, then renamed to `<id>` and the parent fsynced: the directory
/// rename is the commit point, so a crash leaves either no set or the complete set, and the
/// staging leftovers are removed by the next ``open()``. A delete renames the set to
/// `.trash-<id>-<random>` (the commit point), then removes it.
///
/// The methods may be called from concurrent request handlers. File writes run outside the
/// lock; only the commit (the rename and the in-memory index) runs under it. The index lives
/// in memory, so one process at a time may serve a data directory.
public final class PromptSetStore: Sendable {
    /// The configured data directory; the store owns `prompt-sets/` and `quarantine/` in it.
    public let dataDirectory: URL
    /// What the store accepts.
    public let limits: Limits

    /// The crash-test hook armed from the environment (see ``FaultPoint``).
    let armedFaultPoint: FaultPoint?
    let state = Mutex(State())

    struct State {
        enum Phase { case closed, opening, open }
        var phase = Phase.closed
        var records: [PromptSetID: PromptSetRecord] = [:]
    }

    static let stagingPrefix = ".staging-"
    static let trashPrefix = ".trash-"
    /// No stored image is read back if it is larger than this, whatever its manifest says.
    static let maxStoredImageBytes = 1 << 30

    /// A store over `dataDirectory`; nothing is read or created until ``open()``.
    public init(dataDirectory: URL, limits: Limits = Limits()) {
        self.dataDirectory = dataDirectory
        self.limits = limits
        armedFaultPoint = FaultPoint.fromEnvironment()
    }

    /// True once ``open()`` has finished.
    public var isOpen: Bool {
        state.withLock { $0.phase == .open }
    }

    /// Stores a new prompt set, or finds the identical one stored before.
    ///
    /// - Returns: the record, and whether it was created now (false: the same class name and
    ///   images were registered earlier, and that record is returned unchanged).
    public func save(className: String, images: [[UInt8]]) throws(PromptSetStoreError) -> (record: PromptSetRecord, created: Bool) {
        try validate(className: className, images: images)
        let id = PromptSetID(className: className, images: images)
        let existing = try state.withLock { state throws(PromptSetStoreError) -> PromptSetRecord? in
            guard state.phase == .open else { throw .notOpen }
            if let existing = state.records[id] { return existing }
            guard state.records.count < limits.maxSets else { throw .storeFull(limit: limits.maxSets) }
            return nil
        }
        if let existing { return (existing, false) }

        let record = PromptSetRecord(
            id: id, className: className,
            createdAt: Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down)),
            images: images.map { image in
                StoredPromptImage(byteCount: image.count, sha256: SHA256.hex(image), mediaType: PromptImageMediaType(sniffing: image))
            })
        let stagingPath = try stage(record, images: images)
        do {
            let outcome = try commit(record, from: stagingPath)
            if !outcome.created { try? Disk.removeTree(stagingPath) }
            return outcome
        } catch {
            try? Disk.removeTree(stagingPath)
            throw error
        }
    }

    /// The record of the set `id`.
    public func record(_ id: PromptSetID) throws(PromptSetStoreError) -> PromptSetRecord {
        try state.withLock { state throws(PromptSetStoreError) in
            guard state.phase == .open else { throw .notOpen }
            guard let record = state.records[id] else { throw .notFound(id) }
            return record
        }
    }

    /// Every stored set, oldest first (ties in id order).
    public func list() throws(PromptSetStoreError) -> [PromptSetRecord] {
        let records = try state.withLock { state throws(PromptSetStoreError) in
            guard state.phase == .open else { throw .notOpen }
            return Array(state.records.values)
        }
        return records.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    /// The number of stored sets.
    public var count: Int {
        state.withLock { $0.records.count }
    }

    /// The images of the set `id` as stored, each checked against its size and SHA-256.
    ///
    /// A set found damaged is quarantined as ``open()`` would do, so that registering it
    /// again stores it afresh.
    public func imageBytes(_ id: PromptSetID) throws(PromptSetStoreError) -> [[UInt8]] {
        let record = try record(id)
        do {
            return try readImages(of: record, in: setPath(id))
        } catch {
            throw quarantineDamaged(id, reason: error.reason)
        }
    }

    /// Deletes the set `id`; false when there was none.
    public func delete(_ id: PromptSetID) throws(PromptSetStoreError) -> Bool {
        let trashPath = try state.withLock { state throws(PromptSetStoreError) -> String? in
            guard state.phase == .open else { throw .notOpen }
            guard state.records[id] != nil else { return nil }
            let path = setPath(id)
            guard Disk.entryKind(path) != nil else {
                // Removed behind the store's back; forgetting it is all that is left to do.
                state.records[id] = nil
                return nil
            }
            let trashPath = setsPath + "/" + Self.trashPrefix + id.hex + "-" + Disk.uniqueSuffix()
            try Disk.rename(path, trashPath)
            state.records[id] = nil
            try Disk.syncDirectory(setsPath)
            return trashPath
        }
        guard let trashPath else { return false }
        reach(.afterTrashRename)
        // The rename already deleted the set; a trash directory that cannot be removed now
        // is removed by the next open.
        try? Disk.removeTree(trashPath)
        return true
    }

    /// Takes the damaged set `id` out of service and moves it to the quarantine directory,
    /// unless it was deleted meanwhile (then it is simply gone).
    private func quarantineDamaged(_ id: PromptSetID, reason: String) -> PromptSetStoreError {
        state.withLock { state in
            guard state.records[id] != nil else { return .notFound(id) }
            state.records[id] = nil
            _ = quarantine(id.hex, reason: reason)
            return .damaged(id, reason: reason)
        }
    }

    var setsPath: String { dataDirectory.appendingPathComponent("prompt-sets").path }
    var quarantinePath: String { dataDirectory.appendingPathComponent("quarantine").path }

    func setPath(_ id: PromptSetID) -> String { setsPath + "/" + id.hex }

    private func validate(className: String, images: [[UInt8]]) throws(PromptSetStoreError) {
        if className.allSatisfy(\.isWhitespace) {
            throw .invalidClassName("it is empty")
        }
        if className.utf8.count > limits.maxClassNameBytes {
            throw .invalidClassName("it is \(className.utf8.count) bytes long; the limit is \(limits.maxClassNameBytes)")
        }
        if className.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw .invalidClassName("it contains control characters")
        }
        guard !images.isEmpty else { throw .noImages }
        guard images.count <= limits.maxImagesPerSet else {
            throw .tooManyImages(count: images.count, limit: limits.maxImagesPerSet)
        }
        for (index, image) in images.enumerated() {
            guard !image.isEmpty else { throw .emptyImage(index: index) }
            guard image.count <= limits.maxImageBytes else {
                throw .imageTooLarge(index: index, bytes: image.count, limit: limits.maxImageBytes)
            }
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
                try Disk.writeNewFile(stagingPath + "/" + Manifest.imagePath(index: index, mediaType: record.images[index].mediaType), image)
                if index == 0 { reach(.afterImageWrite) }
            }
            try Disk.writeNewFile(stagingPath + "/manifest.json", Manifest(record).encoded())
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

    /// Renames the staged set into place under the lock, unless an identical set got there
    /// first or the store filled up meanwhile.
    private func commit(_ record: PromptSetRecord, from stagingPath: String) throws(PromptSetStoreError) -> (record: PromptSetRecord, created: Bool) {
        try state.withLock { state throws(PromptSetStoreError) in
            guard state.phase == .open else { throw .notOpen }
            if let existing = state.records[record.id] { return (existing, false) }
            guard state.records.count < limits.maxSets else { throw .storeFull(limit: limits.maxSets) }
            try Disk.rename(stagingPath, setPath(record.id))
            reach(.afterRename)
            state.records[record.id] = record
            // Once renamed the set is complete and is served; a failed sync only leaves its
            // survival of a power loss in doubt, which the error reports.
            try Disk.syncDirectory(setsPath)
            return (record, true)
        }
    }
}

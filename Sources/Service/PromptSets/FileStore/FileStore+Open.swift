import Foundation
import Tensor

extension FileStore {
    /// Scans the store and starts serving what it holds; call once, before anything else.
    ///
    /// Leftovers of interrupted writes and deletes are removed. Every set's manifest is
    /// parsed, every image's size and SHA-256 checked, and the class name and images hashed
    /// again to the set's id; a set that fails any check — or an entry that is not a set at
    /// all — is moved to `<data_dir>/quarantine/<name>-<time>/` with a `reason.txt`, and
    /// reported. One bad entry never stops the others from loading.
    ///
    /// - Throws: only when the data directory itself cannot be created or listed, or when
    ///   the store is already open.
    @discardableResult
    public func open() async throws(PromptSetStoreError) -> StoreLoadReport {
        try phase.withLock { phase throws(PromptSetStoreError) in
            guard phase == .closed else { throw .alreadyOpen }
            phase = .opening
        }
        do {
            let report = try scan()
            phase.withLock { $0 = .open }
            return report
        } catch {
            phase.withLock { $0 = .closed }
            throw error
        }
    }

    private func scan() throws(PromptSetStoreError) -> StoreLoadReport {
        let names: [String]
        do {
            try Disk.makeDirectories(setsPath)
            // The directory may have just been created; make its entry durable.
            try Disk.syncDirectory(dataDirectory.path)
            names = try Disk.contents(of: setsPath)
        } catch {
            throw .dataDirectoryUnusable(path: dataDirectory.path, reason: "\(error)")
        }

        var records: [PromptSetID: PromptSetRecord] = [:]
        var report = StoreLoadReport()
        for name in names {
            if name.hasPrefix(Self.stagingPrefix) || name.hasPrefix(Self.trashPrefix) {
                do {
                    try Disk.removeTree(setsPath + "/" + name)
                    report.leftovers.append(StoreLoadReport.Leftover(name: name, removalFailure: nil))
                } catch {
                    report.leftovers.append(StoreLoadReport.Leftover(name: name, removalFailure: "\(error)"))
                }
                continue
            }
            do {
                let record = try loadSet(named: name)
                records[record.id] = record
            } catch {
                report.quarantined.append(quarantine(name, reason: error.reason))
            }
        }
        if !report.leftovers.isEmpty || !report.quarantined.isEmpty {
            // Removals and moves are redone by the next open if this sync does not last.
            try? Disk.syncDirectory(setsPath)
        }
        report.loaded = records.values.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
        return report
    }

    /// Reads and verifies the set stored under `name`.
    private func loadSet(named name: String) throws(StoreDefect) -> PromptSetRecord {
        guard let id = PromptSetID(name) else {
            throw StoreDefect("'\(name)' is not a prompt set: its name is not a prompt set id")
        }
        let directory = setsPath + "/" + name
        guard Disk.entryKind(directory) == .directory else {
            throw StoreDefect("'\(name)' is not a directory")
        }
        let manifestBytes: [UInt8]
        do {
            manifestBytes = try Disk.readRegularFile(directory + "/manifest.json", maxBytes: PromptSetManifest.maxBytes)
        } catch {
            throw StoreDefect("manifest.json \(error)")
        }
        let record = try PromptSetManifest.decodeRecord(manifestBytes, directoryName: name)

        var digest = PromptSetID.Digest(className: record.className, imageCount: record.images.count)
        let images = try readImages(of: record, in: directory)
        for (index, (image, bytes)) in zip(record.images, images).enumerated() {
            guard PromptImageMediaType(sniffing: bytes) == image.mediaType else {
                let file = PromptSetManifest.imagePath(index: index, mediaType: image.mediaType)
                throw StoreDefect("\(file) is not the \(image.mediaType.rawValue) manifest.json says it is")
            }
            digest.add(image: bytes)
        }
        guard digest.finish() == id else {
            throw StoreDefect("its class name and images do not hash to its id")
        }
        _ = try readImages(record.calibrationImages, at: PromptSetManifest.calibrationImagePath, in: directory)
        return record
    }

    /// The image files of `record` in `directory`, each checked against its size and SHA-256
    /// in the manifest.
    func readImages(of record: PromptSetRecord, in directory: String) throws(StoreDefect) -> [[UInt8]] {
        try readImages(record.images, at: PromptSetManifest.imagePath, in: directory)
    }

    /// The files of `stored` (named by `path`) in `directory`, each checked against its size
    /// and SHA-256 in the manifest.
    func readImages(
        _ stored: [StoredPromptImage], at path: (Int, PromptImageMediaType) -> String, in directory: String
    ) throws(StoreDefect) -> [[UInt8]] {
        var images: [[UInt8]] = []
        for (index, image) in stored.enumerated() {
            let file = path(index, image.mediaType)
            let bytes: [UInt8]
            do {
                bytes = try Disk.readRegularFile(directory + "/" + file, expectedBytes: image.byteCount, maxBytes: Self.maxStoredImageBytes)
            } catch {
                throw StoreDefect("\(file) \(error)")
            }
            guard SHA256.hex(bytes) == image.sha256 else {
                throw StoreDefect("\(file) does not match its SHA-256 in manifest.json")
            }
            images.append(bytes)
        }
        return images
    }

    /// Moves the entry `name` out of the prompt-set directory into the quarantine directory
    /// and writes why beside it. Failures are reported, never thrown: a damaged set must not
    /// keep the others from loading.
    func quarantine(_ name: String, reason: String) -> StoreLoadReport.QuarantinedEntry {
        let source = setsPath + "/" + name
        let destination: String
        do {
            try Disk.makeDirectories(quarantinePath)
            destination = quarantineDestination(for: name)
            if Disk.entryKind(source) == .directory {
                try Disk.rename(source, destination)
            } else {
                try Disk.makeDirectory(destination)
                try Disk.rename(source, destination + "/" + name)
            }
        } catch {
            return StoreLoadReport.QuarantinedEntry(name: name, reason: reason, location: nil, moveFailure: "\(error)")
        }
        let note = """
            \(reason)
            Moved here from prompt-sets/\(name) at \(Date().formatted(.iso8601)). Register the set again to serve it.

            """
        // The entry is already out of the way; a missing note only loses the explanation,
        // which the load report carries too.
        try? AtomicFile.write(to: URL(fileURLWithPath: destination + "/reason.txt")) { try $0.write(Array(note.utf8)) }
        try? Disk.syncDirectory(quarantinePath)
        return StoreLoadReport.QuarantinedEntry(name: name, reason: reason, location: URL(fileURLWithPath: destination), moveFailure: nil)
    }

    /// `quarantine/<name>-<UTC time>`, with a random suffix if that is taken.
    private func quarantineDestination(for name: String) -> String {
        let time = Date().formatted(Date.ISO8601FormatStyle(dateSeparator: .omitted, timeSeparator: .omitted))
        let path = quarantinePath + "/" + name + "-" + time
        return Disk.entryKind(path) == nil ? path : path + "-" + Disk.uniqueSuffix()
    }
}

import Foundation
import Tensor

/// SHA-256 digests of model weights files, remembered against each file's ``FileFingerprint``
/// so that a start does not read the whole file again (0.5–1 s for a full-size bundle)
/// when nothing about it changed.
///
/// The cache is a small JSON file kept outside the bundle, which may be read-only (a volume
/// mounted read-only in a container); the service keeps it in its data directory. An entry is
/// used only when the file's canonical path, size, modification and status-change times,
/// inode and device all equal the recorded ones; anything else (a rewritten, replaced or
/// remounted file) hashes the file again and records the new entry. A missing, unreadable or
/// damaged cache file is treated as empty and rewritten, and a failure to write it only costs
/// the next start a re-hash: the cache can make a start slower, never a digest wrong — short
/// of someone forging entries, which needs write access to the data directory, where the
/// features the digest keys are kept anyway.
public struct ModelHashCache: Sendable {
    /// One remembered digest.
    struct Entry: Codable, Equatable {
        /// The canonical (symbolic links resolved) path of the file.
        let path: String
        let size: Int64
        let mtimeNs: Int64
        let ctimeNs: Int64
        let inode: UInt64
        let device: UInt64
        let sha256: String

        enum CodingKeys: String, CodingKey {
            case path, size, inode, device, sha256
            case mtimeNs = "mtime_ns"
            case ctimeNs = "ctime_ns"
        }

        init(path: String, fingerprint: FileFingerprint, sha256: String) {
            self.path = path
            size = fingerprint.size
            mtimeNs = fingerprint.modifiedNanoseconds
            ctimeNs = fingerprint.changedNanoseconds
            inode = fingerprint.inode
            device = fingerprint.device
            self.sha256 = sha256
        }

        var fingerprint: FileFingerprint {
            FileFingerprint(size: size, modifiedNanoseconds: mtimeNs, changedNanoseconds: ctimeNs, inode: inode, device: device)
        }

        /// 64 lowercase hex digits: a damaged value is never handed out as a digest (it names
        /// a directory of the feature cache).
        var isWellFormed: Bool {
            sha256.utf8.count == 64
                && sha256.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }
        }
    }

    /// The cache file's content.
    struct Contents: Codable {
        var format: String
        var entries: [Entry]
    }

    static let format = "inctrl-model-hashes/1"
    /// Entries kept, most recently hashed first: enough for every model and copy a host
    /// switches between, while a file that keeps changing cannot grow the cache.
    static let capacity = 16

    /// The cache file.
    public let url: URL

    /// The cache kept in the file at `url` (created on first use, with its directory).
    public init(url: URL) {
        self.url = url
    }

    /// The cache the service keeps in its data directory: `<dataDirectory>/model-hashes.json`.
    public init(dataDirectory: URL) {
        self.init(url: dataDirectory.appendingPathComponent("model-hashes.json"))
    }

    /// The SHA-256 of the file at `path`: the cached one when the file's fingerprint is the one
    /// recorded with it, else computed from the file and recorded. The file is fingerprinted
    /// before and after hashing, and a digest is recorded only if nothing changed in between.
    public func digest(ofFileAt path: String) throws(MappedFile.Failure) -> ModelDigest {
        let key = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        let fingerprint = try FileFingerprint(path: path)
        let entries = storedEntries()
        if let entry = entries.first(where: { $0.path == key }), entry.fingerprint == fingerprint {
            return ModelDigest(sha256: entry.sha256, reused: true)
        }
        let sha256 = try SHA256.hex(ofFileAt: path)
        guard try FileFingerprint(path: path) == fingerprint else {
            return ModelDigest(sha256: sha256, reused: false, notCached: "\(path) changed while it was hashed")
        }
        let kept = [Entry(path: key, fingerprint: fingerprint, sha256: sha256)] + entries.filter { $0.path != key }
        do {
            try save(Array(kept.prefix(Self.capacity)))
            return ModelDigest(sha256: sha256, reused: false)
        } catch {
            return ModelDigest(sha256: sha256, reused: false, notCached: "cannot write \(url.path): \(error)")
        }
    }

    /// The well-formed entries of the cache file; none when it is missing, unreadable, of
    /// another format or not JSON (the next write replaces it).
    func storedEntries() -> [Entry] {
        guard let data = try? Data(contentsOf: url),
              let contents = try? JSONDecoder().decode(Contents.self, from: data),
              contents.format == Self.format
        else { return [] }
        return contents.entries.filter(\.isWellFormed)
    }

    /// Replaces the cache file, atomically, so a crash or a concurrent start never leaves a
    /// torn file; concurrent writers may lose each other's entry, which costs a re-hash.
    private func save(_ entries: [Entry]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(Contents(format: Self.format, entries: entries)) + Data("\n".utf8)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try AtomicFile.write(to: url) { handle in
            try data.withUnsafeBytes { try handle.write($0) }
        }
    }
}

@testable import CLIP
import Foundation
import Tensor
import Testing
@testable import InCTRL
#if canImport(Glibc)
import Glibc
#endif

/// The model's identity comes from the hash cache exactly when the weights file is unchanged:
/// a planted digest proves the file was not read, and every kind of change brings the real
/// digest back.
@Suite struct ModelHashCacheTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("model-hash-cache-\(UUID().uuidString)")
    /// A digest no file has: seeing it as the identity means the cache was used.
    static let planted = String(repeating: "ab", count: 32)

    var bundle: URL { directory.appendingPathComponent("bundle") }
    var weights: String { bundle.appendingPathComponent(ModelBundle.FileName.tensors).path }
    var cache: ModelHashCache { ModelHashCache(dataDirectory: directory.appendingPathComponent("data")) }

    init() throws {
        try DemoBundle.write(architecture: .tiny, seed: 5, vocabulary: InCTRLModelTests.vocabulary, to: bundle)
    }

    func load(_ cache: ModelHashCache? = nil) throws -> InCTRLModel {
        try InCTRLModel(bundle: ModelBundle.open(bundle), hashCache: cache ?? self.cache)
    }

    /// Rewrites the cache so that its only entry gives `sha256` for the weights file as it is now.
    func plant(_ sha256: String) throws {
        let contents = ModelHashCache.Contents(
            format: ModelHashCache.format,
            entries: [.init(path: URL(fileURLWithPath: weights).resolvingSymlinksInPath().path, fingerprint: try FileFingerprint(path: weights), sha256: sha256)])
        try FileManager.default.createDirectory(at: cache.url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try JSONEncoder().encode(contents).write(to: cache.url)
    }

    /// Sets the weights file's modification time, as `touch -d` would.
    func setModified(_ path: String, seconds: Int, nanoseconds: Int) throws {
        var times = [timespec(tv_sec: seconds, tv_nsec: nanoseconds), timespec(tv_sec: seconds, tv_nsec: nanoseconds)]
        guard utimensat(AT_FDCWD, path, &times, 0) == 0 else { throw CocoaError(.fileWriteUnknown) }
    }

    @Test func aFirstLoadHashesAndRecordsTheNextReuses() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let real = try SHA256.hex(ofFileAt: weights)
        let first = try load()
        #expect(first.identity == real && !first.weightsDigest.reused && first.weightsDigest.notCached == nil)
        #expect(cache.storedEntries().map(\.sha256) == [real])
        let second = try load()
        #expect(second.identity == real && second.weightsDigest.reused)
    }

    @Test func anUnchangedFileIsNotReadAgain() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        try plant(Self.planted)
        let model = try load()
        #expect(model.identity == Self.planted)
        #expect(model.weightsDigest.reused)
    }

    @Test func theSameSizeWithOtherContentAndTimeIsHashedAgain() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        try setModified(weights, seconds: 1_700_000_000, nanoseconds: 0)
        let before = try FileFingerprint(path: weights)
        try plant(Self.planted)
        // Flip the low bit of the last byte, in place: a weight changes, nothing else does.
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: weights))
        let end = try handle.seekToEnd()
        try handle.seek(toOffset: end - 1)
        let last = try #require(try handle.read(upToCount: 1)).first!
        try handle.seek(toOffset: end - 1)
        try handle.write(contentsOf: [last ^ 1])
        try handle.close()
        try setModified(weights, seconds: 1_700_000_001, nanoseconds: 5)
        let after = try FileFingerprint(path: weights)
        #expect(after.size == before.size && after.inode == before.inode && after.modifiedNanoseconds != before.modifiedNanoseconds)

        let model = try load()
        #expect(model.identity == (try SHA256.hex(ofFileAt: weights)))
        #expect(model.identity != Self.planted && !model.weightsDigest.reused)
    }

    @Test func aReplacedFileIsHashedAgain() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let real = try SHA256.hex(ofFileAt: weights)
        let before = try FileFingerprint(path: weights)
        try plant(Self.planted)
        // The same bytes and modification time under a new inode: a copy renamed over it.
        let copy = bundle.appendingPathComponent("copy.safetensors").path
        try FileManager.default.copyItem(atPath: weights, toPath: copy)
        try setModified(copy, seconds: Int(before.modifiedNanoseconds / 1_000_000_000), nanoseconds: Int(before.modifiedNanoseconds % 1_000_000_000))
        #expect(rename(copy, weights) == 0)
        let after = try FileFingerprint(path: weights)
        #expect(after.inode != before.inode && after.size == before.size && after.modifiedNanoseconds == before.modifiedNanoseconds)

        let model = try load()
        #expect(model.identity == real && !model.weightsDigest.reused)
        #expect(cache.storedEntries().map(\.sha256) == [real])
    }

    @Test func aDamagedCacheFileIsHashedAgainAndRewritten() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let real = try SHA256.hex(ofFileAt: weights)
        try FileManager.default.createDirectory(at: cache.url.deletingLastPathComponent(), withIntermediateDirectories: true)
        for damage in [Data("{\"format\": \"inctrl-model-hashes/1\", \"entr".utf8), Data([0xff, 0x00, 0x7b])] {
            try damage.write(to: cache.url)
            let model = try load()
            #expect(model.identity == real && !model.weightsDigest.reused && model.weightsDigest.notCached == nil)
            #expect(cache.storedEntries().map(\.sha256) == [real])
            #expect(try load().weightsDigest.reused)
        }
        // A malformed digest is never handed out.
        try plant("../../escape")
        #expect(try load().identity == real)
    }

    @Test func aCacheThatCannotBeWrittenOnlyCostsAReHash() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let blocker = directory.appendingPathComponent("not-a-directory")
        try Data("x".utf8).write(to: blocker)
        let unwritable = ModelHashCache(url: blocker.appendingPathComponent("model-hashes.json"))
        let model = try load(unwritable)
        #expect(model.identity == (try SHA256.hex(ofFileAt: weights)))
        #expect(model.weightsDigest.notCached != nil)
        #expect(!(try load(unwritable).weightsDigest.reused))
    }
}

import Foundation
import Tensor
@testable import Service

/// Image bytes and scratch directories for the store and cache tests. The store keeps
/// bytes as received, so images only need the right signature and distinct content.
enum PromptSetTestData {
    static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// `count` bytes starting with the PNG signature, the rest drawn from `seed`.
    static func png(seed: UInt64, count: Int = 2048) -> [UInt8] {
        var generator = SeededGenerator(seed: seed)
        return pngSignature + (0..<(count - pngSignature.count)).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    /// `shots` distinct images for set number `set`.
    static func images(set: UInt64, shots: Int = 3, count: Int = 2048) -> [[UInt8]] {
        (0..<UInt64(shots)).map { png(seed: set * 1000 + $0, count: count) }
    }

    /// A fresh, empty directory under the system's temporary directory.
    static func scratchDirectory(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// A data directory with an open file store over it, removed with the test.
final class OpenedStore {
    let dataDirectory: URL
    let store: FileStore

    init() async throws {
        dataDirectory = try PromptSetTestData.scratchDirectory("prompt-set-store")
        store = FileStore(dataDirectory: dataDirectory)
        try await store.open()
    }

    deinit { try? FileManager.default.removeItem(at: dataDirectory) }

    /// A second store over the same directory, as after a restart.
    func reopened() async throws -> (FileStore, StoreLoadReport) {
        let store = FileStore(dataDirectory: dataDirectory)
        let report = try await store.open()
        return (store, report)
    }

    func setDirectory(_ id: PromptSetID) -> URL {
        dataDirectory.appendingPathComponent("prompt-sets").appendingPathComponent(id.hex)
    }
}

extension FileStore {
    /// Saves a set the way the registry does (its record made now); `created` is false when
    /// a set with its id was stored already, whose record is then returned.
    func save(className: String, images: [[UInt8]]) async throws -> (record: PromptSetRecord, created: Bool) {
        let record = PromptSetRecord(id: PromptSetID(className: className, images: images), className: className, images: images)
        let existed = (try? self.record(record.id)) != nil
        let stored = try await save(record, images: images)
        return (stored, !existed)
    }

    /// The images of the set `id` as stored.
    func imageBytes(_ id: PromptSetID) async throws -> [[UInt8]] {
        try await images(of: try record(id))
    }
}

extension FileStore {
    /// Every stored set, oldest first (ties in id order), read from the data directory.
    func list() throws -> [PromptSetRecord] {
        guard isOpen else { throw PromptSetStoreError.notOpen }
        let names = try FileManager.default.contentsOfDirectory(atPath: setsPath)
        return try names.compactMap(PromptSetID.init).map { try record($0) }.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    /// The number of stored sets.
    var count: Int { (try? list().count) ?? 0 }
}

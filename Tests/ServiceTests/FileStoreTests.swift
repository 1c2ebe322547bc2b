import Foundation
import Tensor
import Testing
@testable import Service

/// Saving, reading back, idempotent re-registration, deletion, restart and limits, on real
/// directories.
@Suite struct FileStoreTests {
    @Test func savedSetReadsBackWithItsBytesAndLayout() async throws {
        let fixture = try await OpenedStore()
        let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0] + Array(repeating: 7, count: 500)
        let images = [PromptSetTestData.png(seed: 1), jpeg, Array("not an image".utf8)]
        let before = Date()
        let (record, created) = try await fixture.store.save(className: "hazelnut", images: images)

        #expect(created)
        #expect(record.id == PromptSetID(className: "hazelnut", images: images))
        #expect(record.className == "hazelnut")
        #expect(record.shots == 3)
        #expect(record.images.map(\.mediaType) == [.png, .jpeg, .unknown])
        #expect(record.images.map(\.byteCount) == images.map(\.count))
        #expect(record.images.map(\.sha256) == images.map { SHA256.hex($0) })
        #expect(abs(record.createdAt.timeIntervalSince(before)) < 2)
        #expect(try fixture.store.record(record.id) == record)
        #expect(try fixture.store.list() == [record])
        #expect(try await fixture.store.imageBytes(record.id) == images)

        // On disk: the images byte for byte under their derived names, and the manifest.
        let directory = fixture.setDirectory(record.id)
        for (name, bytes) in zip(["0.png", "1.jpg", "2.bin"], images) {
            #expect(try Data(contentsOf: directory.appendingPathComponent("images/\(name)")) == Data(bytes))
        }
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("manifest.json"))) as? [String: Any]
        #expect(manifest?["format"] as? Int == 2)
        #expect((manifest?["calibration_images"] as? [Any])?.isEmpty == true && manifest?["manual_threshold"] == nil)
        #expect(manifest?["id"] as? String == record.id.hex)
        #expect(manifest?["class_name"] as? String == "hazelnut")
        #expect(manifest?["created_at"] as? String == record.createdAt.formatted(.iso8601))
        let listed = manifest?["images"] as? [[String: Any]]
        #expect(listed?.map { $0["file"] as? String } == ["images/0.png", "images/1.jpg", "images/2.bin"])
        #expect(listed?.map { $0["media_type"] as? String } == ["image/png", "image/jpeg", "application/octet-stream"])
        #expect(listed?.map { $0["bytes"] as? Int } == images.map(\.count))
        #expect(listed?.map { $0["sha256"] as? String } == images.map { SHA256.hex($0) })
        // Nothing but the committed set is left in the prompt-set directory.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.deletingLastPathComponent().path) == [record.id.hex])
    }

    @Test func savingTheSameSetAgainReturnsTheFirstRecord() async throws {
        let fixture = try await OpenedStore()
        let images = PromptSetTestData.images(set: 3)
        let first = try await fixture.store.save(className: "screw", images: images)
        let second = try await fixture.store.save(className: "screw", images: images)
        #expect(first.created && !second.created)
        #expect(second.record == first.record)
        #expect(fixture.store.count == 1)

        let other = try await fixture.store.save(className: "screw nut", images: images)
        #expect(other.created && other.record.id != first.record.id)
        #expect(Set(try fixture.store.list().map(\.id)) == [first.record.id, other.record.id])
    }

    @Test func deleteRemovesTheSetEverywhere() async throws {
        let fixture = try await OpenedStore()
        let kept = try await fixture.store.save(className: "cable", images: PromptSetTestData.images(set: 4)).record
        let deleted = try await fixture.store.save(className: "cable", images: PromptSetTestData.images(set: 5)).record

        #expect(try await fixture.store.delete(deleted.id))
        #expect(try await fixture.store.delete(deleted.id) == false)
        #expect(throws: PromptSetStoreError.notFound(deleted.id)) { try fixture.store.record(deleted.id) }
        await #expect(throws: PromptSetStoreError.notFound(deleted.id)) { try await fixture.store.imageBytes(deleted.id) }
        #expect(try fixture.store.list() == [kept])
        let remaining = try FileManager.default.contentsOfDirectory(atPath: fixture.dataDirectory.appendingPathComponent("prompt-sets").path)
        #expect(remaining == [kept.id.hex])

        let (restarted, report) = try await fixture.reopened()
        #expect(report.loaded == [kept])
        #expect(try await restarted.delete(deleted.id) == false)
        // A deleted set can be registered again.
        #expect(try await fixture.store.save(className: "cable", images: PromptSetTestData.images(set: 5)).created)
    }

    @Test func restartServesTheSameSetsAndBytes() async throws {
        let fixture = try await OpenedStore()
        var saved: [PromptSetRecord] = []
        for set in 0..<4 {
            saved.append(try await fixture.store.save(className: "class \(set)", images: PromptSetTestData.images(set: UInt64(10 + set), shots: set + 1)).record)
        }
        let (restarted, report) = try await fixture.reopened()
        #expect(report.quarantined.isEmpty && report.leftovers.isEmpty)
        #expect(Set(report.loaded.map(\.id)) == Set(saved.map(\.id)))
        for record in saved {
            #expect(try restarted.record(record.id) == record)
            #expect(try await restarted.imageBytes(record.id) == PromptSetTestData.images(set: UInt64(10 + record.shots - 1), shots: record.shots))
        }
        #expect(!(try await restarted.save(className: "class 2", images: PromptSetTestData.images(set: 12, shots: 3)).created))
    }

    @Test func mustBeOpenedOnceBeforeUse() async throws {
        let directory = try PromptSetTestData.scratchDirectory("prompt-set-store")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = FileStore(dataDirectory: directory)
        let id = PromptSetID(className: "x", images: [[1]])
        #expect(!store.isOpen)
        await #expect(throws: PromptSetStoreError.notOpen) { try await store.save(className: "x", images: [[1]]) }
        #expect(throws: PromptSetStoreError.notOpen) { try store.record(id) }
        #expect(throws: PromptSetStoreError.notOpen) { try store.list() }
        await #expect(throws: PromptSetStoreError.notOpen) { try await store.delete(id) }
        try await store.open()
        #expect(store.isOpen)
        await #expect(throws: PromptSetStoreError.alreadyOpen) { try await store.open() }
    }

    @Test func anUnusableDataDirectoryIsATypedError() async throws {
        let directory = try PromptSetTestData.scratchDirectory("prompt-set-store")
        defer { try? FileManager.default.removeItem(at: directory) }
        // A regular file where the data directory should be.
        let file = directory.appendingPathComponent("data")
        try Data("x".utf8).write(to: file)
        let store = FileStore(dataDirectory: file)
        await #expect {
            try await store.open()
        } throws: { error in
            guard case .dataDirectoryUnusable(let path, _) = error as? PromptSetStoreError else { return false }
            return path == file.path
        }
        #expect(!store.isOpen)
    }

    @Test func damageFoundOnReadQuarantinesTheSet() async throws {
        let fixture = try await OpenedStore()
        let images = PromptSetTestData.images(set: 40)
        let record = try await fixture.store.save(className: "grid", images: images).record
        let image = fixture.setDirectory(record.id).appendingPathComponent("images/1.png")
        var bytes = try Data(contentsOf: image)
        bytes[50] ^= 0x40
        try bytes.write(to: image)

        await #expect(throws: PromptSetStoreError.damaged(record.id, reason: "images/1.png does not match its SHA-256 in manifest.json")) {
            try await fixture.store.imageBytes(record.id)
        }
        #expect(throws: PromptSetStoreError.notFound(record.id)) { try fixture.store.record(record.id) }
        let quarantined = try FileManager.default.contentsOfDirectory(atPath: fixture.dataDirectory.appendingPathComponent("quarantine").path)
        #expect(quarantined.count == 1 && quarantined[0].hasPrefix(record.id.hex))
        // Registering the set again stores it afresh.
        #expect(try await fixture.store.save(className: "grid", images: images).created)
        #expect(try await fixture.store.imageBytes(record.id) == images)

        try FileManager.default.removeItem(at: image)
        await #expect(throws: PromptSetStoreError.damaged(record.id, reason: "images/1.png is missing")) {
            try await fixture.store.imageBytes(record.id)
        }
    }
}

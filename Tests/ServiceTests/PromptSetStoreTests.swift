import Foundation
import Tensor
import Testing
@testable import Service

/// Saving, reading back, idempotent re-registration, deletion, restart and limits, on real
/// directories.
@Suite struct PromptSetStoreTests {
    @Test func savedSetReadsBackWithItsBytesAndLayout() throws {
        let fixture = try OpenedStore()
        let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0] + Array(repeating: 7, count: 500)
        let images = [PromptSetTestData.png(seed: 1), jpeg, Array("not an image".utf8)]
        let before = Date()
        let (record, created) = try fixture.store.save(className: "hazelnut", images: images)

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
        #expect(try fixture.store.imageBytes(record.id) == images)

        // On disk: the images byte for byte under their derived names, and the manifest.
        let directory = fixture.setDirectory(record.id)
        for (name, bytes) in zip(["0.png", "1.jpg", "2.bin"], images) {
            #expect(try Data(contentsOf: directory.appendingPathComponent("images/\(name)")) == Data(bytes))
        }
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("manifest.json"))) as? [String: Any]
        #expect(manifest?["format"] as? Int == 1)
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

    @Test func savingTheSameSetAgainReturnsTheFirstRecord() throws {
        let fixture = try OpenedStore()
        let images = PromptSetTestData.images(set: 3)
        let first = try fixture.store.save(className: "screw", images: images)
        let second = try fixture.store.save(className: "screw", images: images)
        #expect(first.created && !second.created)
        #expect(second.record == first.record)
        #expect(fixture.store.count == 1)

        let other = try fixture.store.save(className: "screw nut", images: images)
        #expect(other.created && other.record.id != first.record.id)
        #expect(Set(try fixture.store.list().map(\.id)) == [first.record.id, other.record.id])
    }

    @Test func deleteRemovesTheSetEverywhere() throws {
        let fixture = try OpenedStore()
        let kept = try fixture.store.save(className: "cable", images: PromptSetTestData.images(set: 4)).record
        let deleted = try fixture.store.save(className: "cable", images: PromptSetTestData.images(set: 5)).record

        #expect(try fixture.store.delete(deleted.id))
        #expect(try fixture.store.delete(deleted.id) == false)
        #expect(throws: PromptSetStoreError.notFound(deleted.id)) { try fixture.store.record(deleted.id) }
        #expect(throws: PromptSetStoreError.notFound(deleted.id)) { try fixture.store.imageBytes(deleted.id) }
        #expect(try fixture.store.list() == [kept])
        let remaining = try FileManager.default.contentsOfDirectory(atPath: fixture.dataDirectory.appendingPathComponent("prompt-sets").path)
        #expect(remaining == [kept.id.hex])

        let (restarted, report) = try fixture.reopened()
        #expect(report.loaded == [kept])
        #expect(try restarted.delete(deleted.id) == false)
        // A deleted set can be registered again.
        #expect(try fixture.store.save(className: "cable", images: PromptSetTestData.images(set: 5)).created)
    }

    @Test func restartServesTheSameSetsAndBytes() throws {
        let fixture = try OpenedStore()
        var saved: [PromptSetRecord] = []
        for set in 0..<4 {
            saved.append(try fixture.store.save(className: "class \(set)", images: PromptSetTestData.images(set: UInt64(10 + set), shots: set + 1)).record)
        }
        let (restarted, report) = try fixture.reopened()
        #expect(report.quarantined.isEmpty && report.leftovers.isEmpty)
        #expect(Set(report.loaded.map(\.id)) == Set(saved.map(\.id)))
        for record in saved {
            #expect(try restarted.record(record.id) == record)
            #expect(try restarted.imageBytes(record.id) == PromptSetTestData.images(set: UInt64(10 + record.shots - 1), shots: record.shots))
        }
        #expect(!(try restarted.save(className: "class 2", images: PromptSetTestData.images(set: 12, shots: 3)).created))
    }

    @Test func refusesInvalidInputWithTypedErrors() throws {
        let limits = PromptSetStore.Limits(maxSets: 10, maxImagesPerSet: 4, maxImageBytes: 4096, maxClassNameBytes: 16)
        let fixture = try OpenedStore(limits: limits)
        let image = PromptSetTestData.png(seed: 9)
        let cases: [(String, [[UInt8]], PromptSetStoreError)] = [
            ("", [image], .invalidClassName("it is empty")),
            ("  ", [image], .invalidClassName("it is empty")),
            (String(repeating: "é", count: 9), [image], .invalidClassName("it is 18 bytes long; the limit is 16")),
            ("bad\nname", [image], .invalidClassName("it contains control characters")),
            ("bottle", [], .noImages),
            ("bottle", Array(repeating: image, count: 5), .tooManyImages(count: 5, limit: 4)),
            ("bottle", [image, []], .emptyImage(index: 1)),
            ("bottle", [image, PromptSetTestData.png(seed: 1, count: 4097)], .imageTooLarge(index: 1, bytes: 4097, limit: 4096)),
        ]
        for (className, images, expected) in cases {
            #expect(throws: expected) { try fixture.store.save(className: className, images: images) }
        }
        #expect(fixture.store.count == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.dataDirectory.appendingPathComponent("prompt-sets").path).isEmpty)
        // The limits are inclusive.
        #expect(try fixture.store.save(className: String(repeating: "é", count: 8), images: Array(PromptSetTestData.images(set: 6, shots: 4, count: 4096))).created)
    }

    @Test func aFullStoreRefusesNewSetsButNotKnownOnes() throws {
        let fixture = try OpenedStore(limits: PromptSetStore.Limits(maxSets: 2))
        let first = try fixture.store.save(className: "a", images: PromptSetTestData.images(set: 20)).record
        _ = try fixture.store.save(className: "b", images: PromptSetTestData.images(set: 21))
        #expect(throws: PromptSetStoreError.storeFull(limit: 2)) {
            try fixture.store.save(className: "c", images: PromptSetTestData.images(set: 22))
        }
        #expect(!(try fixture.store.save(className: "a", images: PromptSetTestData.images(set: 20)).created))
        #expect(try fixture.store.delete(first.id))
        #expect(try fixture.store.save(className: "c", images: PromptSetTestData.images(set: 22)).created)
        #expect(fixture.store.count == 2)
    }

    @Test func concurrentSavesCreateEachSetOnceAndRespectTheLimit() async throws {
        let fixture = try OpenedStore(limits: PromptSetStore.Limits(maxSets: 4))
        let store = fixture.store
        // Half the tasks register one shared set, the others five different ones: six sets
        // compete for four places.
        let sets: [UInt64] = (0..<16).map { $0 % 2 == 0 ? 30 : 31 + UInt64($0 / 2 % 5) }
        let outcomes = try await withThrowingTaskGroup(of: (PromptSetID, Bool).self) { group in
            for set in sets {
                group.addTask {
                    let images = PromptSetTestData.images(set: set)
                    do {
                        let outcome = try store.save(className: "pill", images: images)
                        #expect(outcome.record.id == PromptSetID(className: "pill", images: images))
                        return (outcome.record.id, outcome.created)
                    } catch PromptSetStoreError.storeFull {
                        return (PromptSetID(className: "pill", images: images), false)
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let created = outcomes.filter(\.1).map(\.0)
        #expect(created.count == 4)
        #expect(Set(created).count == 4)
        #expect(Set(try store.list().map(\.id)) == Set(created))
        let onDisk = try FileManager.default.contentsOfDirectory(atPath: fixture.dataDirectory.appendingPathComponent("prompt-sets").path)
        #expect(Set(onDisk) == Set(created.map(\.hex)))
    }

    @Test func mustBeOpenedOnceBeforeUse() throws {
        let directory = try PromptSetTestData.scratchDirectory("prompt-set-store")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = PromptSetStore(dataDirectory: directory)
        let id = PromptSetID(className: "x", images: [[1]])
        #expect(!store.isOpen)
        #expect(throws: PromptSetStoreError.notOpen) { try store.save(className: "x", images: [[1]]) }
        #expect(throws: PromptSetStoreError.notOpen) { try store.record(id) }
        #expect(throws: PromptSetStoreError.notOpen) { try store.list() }
        #expect(throws: PromptSetStoreError.notOpen) { try store.delete(id) }
        try store.open()
        #expect(store.isOpen)
        #expect(throws: PromptSetStoreError.alreadyOpen) { try store.open() }
    }

    @Test func anUnusableDataDirectoryIsATypedError() throws {
        let directory = try PromptSetTestData.scratchDirectory("prompt-set-store")
        defer { try? FileManager.default.removeItem(at: directory) }
        // A regular file where the data directory should be.
        let file = directory.appendingPathComponent("data")
        try Data("x".utf8).write(to: file)
        let store = PromptSetStore(dataDirectory: file)
        #expect {
            try store.open()
        } throws: { error in
            guard case .dataDirectoryUnusable(let path, _) = error as? PromptSetStoreError else { return false }
            return path == file.path
        }
        #expect(!store.isOpen)
    }

    @Test func damageFoundOnReadQuarantinesTheSet() throws {
        let fixture = try OpenedStore()
        let images = PromptSetTestData.images(set: 40)
        let record = try fixture.store.save(className: "grid", images: images).record
        let image = fixture.setDirectory(record.id).appendingPathComponent("images/1.png")
        var bytes = try Data(contentsOf: image)
        bytes[50] ^= 0x40
        try bytes.write(to: image)

        #expect(throws: PromptSetStoreError.damaged(record.id, reason: "images/1.png does not match its SHA-256 in manifest.json")) {
            try fixture.store.imageBytes(record.id)
        }
        #expect(throws: PromptSetStoreError.notFound(record.id)) { try fixture.store.record(record.id) }
        let quarantined = try FileManager.default.contentsOfDirectory(atPath: fixture.dataDirectory.appendingPathComponent("quarantine").path)
        #expect(quarantined.count == 1 && quarantined[0].hasPrefix(record.id.hex))
        // Registering the set again stores it afresh.
        #expect(try fixture.store.save(className: "grid", images: images).created)
        #expect(try fixture.store.imageBytes(record.id) == images)

        try FileManager.default.removeItem(at: image)
        #expect(throws: PromptSetStoreError.damaged(record.id, reason: "images/1.png is missing")) {
            try fixture.store.imageBytes(record.id)
        }
    }
}

import Foundation
import InCTRL
import Tensor
import Testing
@testable import Service

/// The contract of ``PromptSetStore`` (docs/ARCHITECTURE.md, "Where to add… a store
/// backend"), checked against every backend: the file store and PostgreSQL.
@Suite struct PromptSetStoreContractTests {
    /// A small model shape; the checks do not depend on size.
    static let geometry = FeatureGeometry(tapLayers: 3, patchesPerImage: 4, tapWidth: 5, embeddingWidth: 6)
    static let keyA = DerivedFeatureKey(modelIdentity: String(repeating: "a", count: 64), geometry: geometry)
    /// Model A in bf16: another precision is another key.
    static let keyA16 = DerivedFeatureKey(modelIdentity: String(repeating: "a", count: 64) + "-bf16", geometry: geometry)
    static let keyB = DerivedFeatureKey(modelIdentity: String(repeating: "b", count: 64), geometry: geometry)

    static func record(_ className: String, _ images: [[UInt8]], createdAt: Date? = nil) -> PromptSetRecord {
        let id = PromptSetID(className: className, images: images)
        let fresh = PromptSetRecord(id: id, className: className, images: images)
        guard let createdAt else { return fresh }
        return PromptSetRecord(id: id, className: className, createdAt: createdAt, images: fresh.images)
    }

    /// Features with random values plus those a careless copy would alter: signed zero, a
    /// subnormal, infinities and a NaN with a payload.
    static func features(shots: Int, seed: UInt64) -> PromptSetFeatures {
        var generator = SeededGenerator(seed: seed)
        let taps = (0..<geometry.tapLayers).map { _ in
            let shape = [geometry.patchesPerImage * shots, geometry.tapWidth]
            var scalars = (0..<shape.reduce(1, *)).map { _ in Float.random(in: -1...1, using: &generator) }
            scalars.replaceSubrange(0..<5, with: [-0.0, .leastNonzeroMagnitude, .infinity, -.infinity, Float(nan: 0x1234, signaling: false)])
            return try! Tensor(shape: shape, scalars: scalars)
        }
        let prototype = (0..<geometry.embeddingWidth).map { _ in Float.random(in: -3...3, using: &generator) }
        return PromptSetFeatures(shots: shots, normalizedTaps: taps, prototype: prototype)
    }

    static func bits(_ features: PromptSetFeatures) -> [[UInt32]] {
        features.normalizedTaps.map { $0.scalars.map(\.bitPattern) } + [features.prototype.map(\.bitPattern)]
    }

    static func calibration(shots: Int, extra: Int, seed: UInt64) -> Calibration {
        var generator = SeededGenerator(seed: seed)
        func observation() -> Calibration.Observation {
            Calibration.Observation(
                score: Float.random(in: 0...1, using: &generator),
                residualMap: (0..<geometry.patchesPerImage).map { _ in Float.random(in: 0...1, using: &generator) })
        }
        return Calibration(shots: (0..<shots).map { _ in observation() }, extra: (0..<extra).map { _ in observation() })
    }

    /// More than ten images and ten calibration images come back in their order (10 after 9,
    /// not after 1), and the record listed at restart is the record saved.
    @Test(arguments: StoreBackend.all) func imagesBeyondTheTenthKeepTheirOrder(_ backend: StoreBackend) async throws {
        let fixture = try await StoreFixture(backend)
        let images = PromptSetTestData.images(set: 7, shots: 16, count: 600)
        var record = Self.record("tile", images)
        #expect(try await fixture.store.save(record, images: images) == record)
        #expect(try await fixture.store.images(of: record) == images)
        let calibration = PromptSetTestData.images(set: 8, shots: 12, count: 500)
        record.calibrationImages = calibration.map(StoredPromptImage.init(describing:))
        try await fixture.store.update(record, newCalibrationImages: calibration)
        #expect(try await fixture.store.calibrationImages(of: record) == calibration)
        let (restarted, report) = try await fixture.reopened()
        #expect(report.loaded == [record] && report.quarantined.isEmpty)
        #expect(try await restarted.images(of: record) == images)
        #expect(try await restarted.calibrationImages(of: record) == calibration)
        if let shared = restarted as? any SharedPromptSetStore {
            #expect(try await shared.record(record.id) == record)
            #expect(try await shared.records() == [record])
        }
    }

    @Test(arguments: StoreBackend.all) func aSavedSetReadsBackAndSurvivesARestart(_ backend: StoreBackend) async throws {
        let fixture = try await StoreFixture(backend)
        let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0] + Array(repeating: 7, count: 500)
        let images = [PromptSetTestData.png(seed: 1), jpeg, Array("not an image".utf8)]
        let record = Self.record("hazelnut", images)
        #expect(try await fixture.store.save(record, images: images) == record)
        #expect(record.images.map(\.mediaType) == [.png, .jpeg, .unknown])
        #expect(try await fixture.store.images(of: record) == images)
        #expect(try await fixture.store.calibrationImages(of: record) == [])

        let (restarted, report) = try await fixture.reopened()
        #expect(report.loaded == [record] && report.quarantined.isEmpty)
        #expect(try await restarted.images(of: record) == images)
    }

    @Test(arguments: StoreBackend.all) func savingTheSameSetAgainReturnsTheFirstRecord(_ backend: StoreBackend) async throws {
        let fixture = try await StoreFixture(backend)
        let images = PromptSetTestData.images(set: 3)
        let first = Self.record("screw", images, createdAt: Date(timeIntervalSince1970: 1_700_000_000))
        let later = Self.record("screw", images, createdAt: Date(timeIntervalSince1970: 1_700_000_100))
        #expect(try await fixture.store.save(first, images: images) == first)
        #expect(try await fixture.store.save(later, images: images) == first)
        let other = Self.record("screw nut", images)
        #expect(try await fixture.store.save(other, images: images) == other)
        let (_, report) = try await fixture.reopened()
        #expect(report.loaded == [first, other])
    }

    @Test(arguments: StoreBackend.all) func deleteRemovesTheSetAndItsDerivedData(_ backend: StoreBackend) async throws {
        let fixture = try await StoreFixture(backend)
        let keptImages = PromptSetTestData.images(set: 4, shots: 1)
        let deletedImages = PromptSetTestData.images(set: 5, shots: 1)
        let kept = try await fixture.store.save(Self.record("cable", keptImages), images: keptImages)
        let deleted = try await fixture.store.save(Self.record("cable", deletedImages), images: deletedImages)
        try await fixture.store.saveFeatures(Self.features(shots: 1, seed: 1), of: deleted.id, key: Self.keyA)
        try await fixture.store.saveCalibration(Self.calibration(shots: 0, extra: 0, seed: 1), of: deleted.id, key: Self.keyA)

        #expect(try await fixture.store.delete(deleted.id))
        #expect(try await fixture.store.delete(deleted.id) == false)
        await #expect(throws: PromptSetStoreError.notFound(deleted.id)) { try await fixture.store.images(of: deleted) }
        let (restarted, report) = try await fixture.reopened()
        #expect(report.loaded == [kept])
        if case .miss = await restarted.features(of: deleted, key: Self.keyA) {} else { Issue.record("features outlived their set") }
        if case .miss = await restarted.calibration(of: deleted, key: Self.keyA) {} else { Issue.record("a calibration outlived its set") }
        // A deleted set can be saved again.
        #expect(try await restarted.save(Self.record("cable", deletedImages), images: deletedImages).id == deleted.id)
        #expect(try await restarted.images(of: deleted) == deletedImages)
    }

    @Test(arguments: StoreBackend.all) func aChangedByteMakesTheSetDamaged(_ backend: StoreBackend) async throws {
        let fixture = try await StoreFixture(backend)
        let images = PromptSetTestData.images(set: 40)
        let record = try await fixture.store.save(Self.record("grid", images), images: images)
        try await fixture.damageImage(1, of: record)

        await #expect {
            try await fixture.store.images(of: record)
        } throws: { error in
            guard case .damaged(let id, _) = error as? PromptSetStoreError else { return false }
            return id == record.id
        }
        // Taken out of service: no longer served after a restart, and free to save again.
        let (restarted, report) = try await fixture.reopened()
        #expect(report.loaded.isEmpty)
        #expect(try await restarted.save(Self.record("grid", images), images: images).id == record.id)
        #expect(try await restarted.images(of: record) == images)
    }

    @Test(arguments: StoreBackend.all) func anUpdateKeepsCalibrationImagesAndTheManualThreshold(_ backend: StoreBackend) async throws {
        let fixture = try await StoreFixture(backend)
        let images = PromptSetTestData.images(set: 6, shots: 2)
        var record = try await fixture.store.save(Self.record("pill", images), images: images)
        let calibration = [PromptSetTestData.png(seed: 601), PromptSetTestData.png(seed: 602, count: 300)]
        record.calibrationImages += calibration.map(StoredPromptImage.init(describing:))
        try await fixture.store.update(record, newCalibrationImages: calibration)
        #expect(try await fixture.store.calibrationImages(of: record) == calibration)

        let third = [PromptSetTestData.png(seed: 603)]
        record.calibrationImages += third.map(StoredPromptImage.init(describing:))
        record.manualThreshold = 0.7
        try await fixture.store.update(record, newCalibrationImages: third)
        record.manualThreshold = nil
        try await fixture.store.update(record, newCalibrationImages: [])
        record.manualThreshold = Float(bitPattern: 0x3F2A_AAAB)
        try await fixture.store.update(record, newCalibrationImages: [])

        let (restarted, report) = try await fixture.reopened()
        #expect(report.loaded == [record])
        #expect(report.loaded.first?.manualThreshold?.bitPattern == 0x3F2A_AAAB)
        #expect(try await restarted.calibrationImages(of: record) == calibration + third)
        #expect(try await restarted.images(of: record) == images)

        let missing = Self.record("pill", PromptSetTestData.images(set: 7, shots: 1))
        await #expect(throws: PromptSetStoreError.notFound(missing.id)) { try await restarted.update(missing, newCalibrationImages: []) }
    }

    @Test(arguments: StoreBackend.all) func derivedFeaturesRoundTripBitExactlyUnderTheirKeyOnly(_ backend: StoreBackend) async throws {
        let fixture = try await StoreFixture(backend)
        let images = PromptSetTestData.images(set: 8, shots: 2)
        var record = try await fixture.store.save(Self.record("bottle", images), images: images)
        if case .miss = await fixture.store.features(of: record, key: Self.keyA) {} else { Issue.record("an empty store did not miss") }

        let featuresA = Self.features(shots: 2, seed: 7)
        let featuresA16 = Self.features(shots: 2, seed: 8)
        let calibrationA = Self.calibration(shots: 2, extra: 0, seed: 9)
        try await fixture.store.saveFeatures(featuresA, of: record.id, key: Self.keyA)
        try await fixture.store.saveFeatures(featuresA16, of: record.id, key: Self.keyA16)
        try await fixture.store.saveCalibration(calibrationA, of: record.id, key: Self.keyA)

        let (restarted, _) = try await fixture.reopened()
        for store in [fixture.store, restarted] {
            #expect(await store.features(of: record, key: Self.keyA).value.map(Self.bits) == Self.bits(featuresA))
            #expect(await store.features(of: record, key: Self.keyA16).value.map(Self.bits) == Self.bits(featuresA16))
            #expect(await store.calibration(of: record, key: Self.keyA).value == calibrationA)
            if case .miss = await store.features(of: record, key: Self.keyB) {} else { Issue.record("model B read model A's features") }
            if case .miss = await store.calibration(of: record, key: Self.keyA16) {} else { Issue.record("bf16 read fp32's calibration") }
        }

        // A calibration of two shots and one calibration image, once the record has it.
        let extra = [PromptSetTestData.png(seed: 801)]
        record.calibrationImages += extra.map(StoredPromptImage.init(describing:))
        try await restarted.update(record, newCalibrationImages: extra)
        let stale = await restarted.calibration(of: record, key: Self.keyA)
        #expect(stale.value == nil, "a calibration without the new image was served")
        let calibrationWithExtra = Self.calibration(shots: 2, extra: 1, seed: 10)
        try await restarted.saveCalibration(calibrationWithExtra, of: record.id, key: Self.keyA)
        #expect(await restarted.calibration(of: record, key: Self.keyA).value == calibrationWithExtra)
        // Features of the wrong shape are refused, not stored.
        await #expect(throws: PromptSetStoreError.self) {
            try await restarted.saveFeatures(Self.features(shots: 2, seed: 1), of: record.id, key: DerivedFeatureKey(
                modelIdentity: "c", geometry: FeatureGeometry(tapLayers: 3, patchesPerImage: 4, tapWidth: 6, embeddingWidth: 6)))
        }
    }

    @Test(arguments: StoreBackend.all) func textPriorsRoundTripBitExactlyUnderTheirKeyOnly(_ backend: StoreBackend) async throws {
        let fixture = try await StoreFixture(backend)
        let prior = TextPrior(className: "metal nut / \"odd\" ✓", normal: [1, -0.0, 3, 4, 5, 6], anomalous: [.pi, 2, 3, 4, 5, .ulpOfOne])
        if case .miss = await fixture.store.textPrior(className: prior.className, key: Self.keyA) {} else { Issue.record("an empty store did not miss") }
        try await fixture.store.saveTextPrior(prior, key: Self.keyA)
        let (restarted, _) = try await fixture.reopened()
        for store in [fixture.store, restarted] {
            let loaded = try #require(await store.textPrior(className: prior.className, key: Self.keyA).value)
            #expect(loaded.className == prior.className)
            #expect(loaded.normal.map(\.bitPattern) == prior.normal.map(\.bitPattern))
            #expect(loaded.anomalous.map(\.bitPattern) == prior.anomalous.map(\.bitPattern))
            if case .miss = await store.textPrior(className: "metal nut", key: Self.keyA) {} else { Issue.record("another class name did not miss") }
            if case .miss = await store.textPrior(className: prior.className, key: Self.keyB) {} else { Issue.record("model B read model A's prior") }
            if case .miss = await store.textPrior(className: prior.className, key: Self.keyA16) {} else { Issue.record("bf16 read fp32's prior") }
        }
    }

    /// Replicas registering the same set at the same moment, each through its own store
    /// object: one set is stored, and every save returns its record.
    @Test(arguments: StoreBackend.all) func concurrentIdenticalSavesStoreOneSet(_ backend: StoreBackend) async throws {
        let fixture = try await StoreFixture(backend)
        let replica = fixture.another()
        _ = try await replica.open()
        let images = PromptSetTestData.images(set: 9, shots: 4, count: 200_000)
        let stored = try await withThrowingTaskGroup(of: PromptSetRecord.self) { group in
            for attempt in 0..<8 {
                let store = attempt.isMultiple(of: 2) ? fixture.store : replica
                let record = Self.record("wood", images, createdAt: Date(timeIntervalSince1970: 1_700_000_000 + Double(attempt)))
                group.addTask { try await store.save(record, images: images) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(stored.map(\.createdAt)).count == 1, "the saves disagree on the stored record")
        let (restarted, report) = try await fixture.reopened()
        #expect(report.loaded == [stored[0]])
        #expect(try await restarted.images(of: stored[0]) == images)
    }
}

import Foundation
import InCTRL
import Tensor
import Testing
@testable import Service

/// The feature cache returns exactly what was stored, for its own model only, and discards
/// any entry it cannot trust.
@Suite final class FeatureCacheTests {
    let dataDirectory: URL
    /// A small model shape; the checks do not depend on size.
    let geometry = FeatureGeometry(tapLayers: 3, patchesPerImage: 4, tapWidth: 5, embeddingWidth: 6)

    init() throws {
        dataDirectory = try PromptSetTestData.scratchDirectory("feature-cache")
    }

    deinit { try? FileManager.default.removeItem(at: dataDirectory) }

    func cache(model: String = "model-a") throws -> FeatureCache {
        try FeatureCache(dataDirectory: dataDirectory, key: DerivedFeatureKey(modelIdentity: model, geometry: geometry))
    }

    /// Features with random values, plus the values a careless copy would alter: signed
    /// zero, a subnormal, infinities and a NaN with a payload.
    func features(shots: Int, seed: UInt64) -> PromptSetFeatures {
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

    func bits(_ features: PromptSetFeatures) -> [[UInt32]] {
        features.normalizedTaps.map { $0.scalars.map(\.bitPattern) } + [features.prototype.map(\.bitPattern)]
    }

    let id = PromptSetID(className: "bottle", images: PromptSetTestData.images(set: 1))
    let otherID = PromptSetID(className: "bottle", images: PromptSetTestData.images(set: 2))

    @Test func promptSetFeaturesRoundTripBitExactly() throws {
        let cache = try cache()
        #expect(cache.promptSetFeatures(for: id, shots: 2).value == nil)
        let stored = features(shots: 2, seed: 7)
        try cache.store(stored, for: id)

        let loaded = try #require(cache.promptSetFeatures(for: id, shots: 2).value)
        #expect(loaded.shots == 2)
        #expect(loaded.normalizedTaps.map(\.shape) == Array(repeating: [8, 5], count: 3))
        #expect(bits(loaded) == bits(stored))
        // A fresh cache over the same directory, as after a restart.
        #expect(try self.cache().promptSetFeatures(for: id, shots: 2).value.map(bits) == bits(stored))
    }

    @Test func textPriorRoundTripsBitExactly() throws {
        let cache = try cache()
        let prior = TextPrior(className: "metal nut / \"odd\" ✓", normal: [1, -0.0, 3, 4, 5, 6], anomalous: [.pi, 2, 3, 4, 5, .ulpOfOne])
        if case .miss = cache.textPrior(for: prior.className) {} else { Issue.record("an empty cache did not miss") }
        try cache.store(prior)
        let loaded = try #require(cache.textPrior(for: prior.className).value)
        #expect(loaded.className == prior.className)
        #expect(loaded.normal.map(\.bitPattern) == prior.normal.map(\.bitPattern))
        #expect(loaded.anomalous.map(\.bitPattern) == prior.anomalous.map(\.bitPattern))
        if case .miss = cache.textPrior(for: "metal nut") {} else { Issue.record("another class name did not miss") }
    }

    @Test func entriesOfAnotherModelAreNeverRead() throws {
        let modelA = try cache(model: "model-a")
        let modelB = try cache(model: "model-b")
        try modelA.store(features(shots: 1, seed: 1), for: id)
        try modelA.store(TextPrior(className: "pill", normal: Array(repeating: 1, count: 6), anomalous: Array(repeating: 2, count: 6)))
        if case .miss = modelB.promptSetFeatures(for: id, shots: 1) {} else { Issue.record("model-b read model-a's features") }
        if case .miss = modelB.textPrior(for: "pill") {} else { Issue.record("model-b read model-a's text prior") }
        #expect(modelA.promptSetFeatures(for: id, shots: 1).value != nil)

        // A file of model-a copied into model-b's directory is recognised by its metadata.
        let source = modelA.promptSetURL(id), destination = modelB.promptSetURL(id)
        try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: source, to: destination)
        expectDiscarded(modelB.promptSetFeatures(for: id, shots: 1), mentioning: "'model' is 'model-a', expected 'model-b'")
        #expect(!FileManager.default.fileExists(atPath: destination.path))
    }

    @Test func aCorruptedFileIsDiscardedAndDeleted() throws {
        let cache = try cache()
        try cache.store(features(shots: 2, seed: 3), for: id)
        let url = cache.promptSetURL(id)
        var bytes = try Data(contentsOf: url)
        bytes[bytes.count - 100] ^= 0x01
        try bytes.write(to: url)

        expectDiscarded(cache.promptSetFeatures(for: id, shots: 2), mentioning: "do not match their SHA-256")
        #expect(!FileManager.default.fileExists(atPath: url.path))
        if case .miss = cache.promptSetFeatures(for: id, shots: 2) {} else { Issue.record("a discarded entry came back") }
    }

    @Test func aTruncatedFileIsDiscarded() throws {
        let cache = try cache()
        try cache.store(features(shots: 2, seed: 4), for: id)
        let url = cache.promptSetURL(id)
        try Data(try Data(contentsOf: url).dropLast(17)).write(to: url)
        expectDiscarded(cache.promptSetFeatures(for: id, shots: 2), mentioning: "truncated")
    }

    @Test func anEntryOfAnotherShapeOrSetIsDiscarded() throws {
        let cache = try cache()
        try cache.store(features(shots: 2, seed: 5), for: id)
        expectDiscarded(cache.promptSetFeatures(for: id, shots: 3), mentioning: "'shots' is '2', expected '3'")

        // Another set's file under this set's name.
        try cache.store(features(shots: 2, seed: 5), for: otherID)
        try FileManager.default.moveItem(at: cache.promptSetURL(otherID), to: cache.promptSetURL(id))
        expectDiscarded(cache.promptSetFeatures(for: id, shots: 2), mentioning: "'prompt_set' is '\(otherID.hex)'")

        // The same metadata, but tensors of another model width.
        let wider = try FeatureCache(
            dataDirectory: dataDirectory,
            key: DerivedFeatureKey(modelIdentity: "model-a", geometry: FeatureGeometry(tapLayers: 3, patchesPerImage: 4, tapWidth: 7, embeddingWidth: 6)))
        try wider.store(PromptSetFeatures(
            shots: 1, normalizedTaps: Array(repeating: Tensor(zeros: [4, 7]), count: 3), prototype: Array(repeating: 0, count: 6)), for: id)
        expectDiscarded(cache.promptSetFeatures(for: id, shots: 1), mentioning: "has shape [4, 7], expected [4, 5]")

        // A text prior stored for one class name, found under another's file name.
        try cache.store(TextPrior(className: "a", normal: Array(repeating: 1, count: 6), anomalous: Array(repeating: 2, count: 6)))
        try FileManager.default.createDirectory(at: cache.textPriorURL("b").deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: cache.textPriorURL("a"), to: cache.textPriorURL("b"))
        expectDiscarded(cache.textPrior(for: "b"), mentioning: "'class_name' is 'a', expected 'b'")
        #expect(cache.textPrior(for: "a").value != nil)
    }

    @Test func refusesToStoreFeaturesOfTheWrongShape() throws {
        let cache = try cache()
        #expect(throws: FeatureCacheError.shapeMismatch(what: "tap.1", expected: [4, 5], found: [4, 6])) {
            try cache.store(PromptSetFeatures(
                shots: 1, normalizedTaps: [Tensor(zeros: [4, 5]), Tensor(zeros: [4, 6]), Tensor(zeros: [4, 5])],
                prototype: Array(repeating: 0, count: 6)), for: self.id)
        }
        #expect(throws: FeatureCacheError.shapeMismatch(what: "tap layers", expected: [3], found: [2])) {
            try cache.store(PromptSetFeatures(shots: 1, normalizedTaps: [Tensor(zeros: [4, 5]), Tensor(zeros: [4, 5])], prototype: Array(repeating: 0, count: 6)), for: self.id)
        }
        #expect(throws: FeatureCacheError.shapeMismatch(what: "text prior 'anomalous'", expected: [6], found: [5])) {
            try cache.store(TextPrior(className: "x", normal: Array(repeating: 0, count: 6), anomalous: Array(repeating: 0, count: 5)))
        }
        #expect(!FileManager.default.fileExists(atPath: cache.promptSetURL(id).path))
    }

    @Test func removingFeaturesForgetsThem() throws {
        let cache = try cache()
        try cache.store(features(shots: 1, seed: 6), for: id)
        try cache.removeFeatures(for: id)
        if case .miss = cache.promptSetFeatures(for: id, shots: 1) {} else { Issue.record("removed features came back") }
        try cache.removeFeatures(for: id)
    }

    @Test func modelHashMustBeASafeDirectoryName() throws {
        for hash in ["", ".", "..", "../x", "a/b", ".hidden", String(repeating: "a", count: 129), "naïve", "a b"] {
            #expect(throws: FeatureCacheError.invalidModelHash(hash)) {
                try FeatureCache(dataDirectory: self.dataDirectory, key: DerivedFeatureKey(modelIdentity: hash, geometry: self.geometry))
            }
        }
        _ = try FeatureCache(dataDirectory: dataDirectory, key: DerivedFeatureKey(modelIdentity: "3f2a_model-v1.2", geometry: geometry))
    }

    @Test func leftoverTemporaryFilesAreRemoved() throws {
        let cache = try cache()
        try cache.store(features(shots: 1, seed: 8), for: id)
        let folder = cache.promptSetURL(id).deletingLastPathComponent()
        let leftover = folder.appendingPathComponent(".\(otherID.hex).safetensors.tmp-123-456")
        try Data([1, 2, 3]).write(to: leftover)
        _ = try self.cache()
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == [id.hex + ".safetensors"])
    }

    func expectDiscarded<Value>(_ lookup: FeatureLookup<Value>, mentioning fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
        guard case let .discarded(reason) = lookup else {
            Issue.record("expected a discarded entry, got \(lookup)", sourceLocation: sourceLocation)
            return
        }
        #expect(reason.contains(fragment), "reason: \(reason)", sourceLocation: sourceLocation)
    }
}

import CLIP
import Foundation
import Tensor
import Testing
@testable import InCTRL

/// Demo bundles are complete, reproducible, and open through the same checks as real ones.
@Suite struct DemoBundleTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("demo-bundle-\(UUID().uuidString)")

    /// A stand-in vocabulary file: these tests check the bundle's plumbing, not tokenising.
    func vocabulary() throws -> URL {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent("vocab.gz")
        try Data([0x1f, 0x8b, 0x08, 0x00]).write(to: url)
        return url
    }

    @Test func tinyDemoBundleHoldsEveryTensorAndOpens() throws {
        let out = directory.appendingPathComponent("tiny")
        try DemoBundle.write(architecture: .tiny, seed: 7, vocabulary: try vocabulary(), to: out)
        let bundle = try ModelBundle.open(out)
        #expect(bundle.config.demo)
        #expect(bundle.config.source == BundleSource(kind: "demo", seed: 7))
        #expect(bundle.config.vision == BundleConfig.tiny.vision)
        let specs = InCTRLArchitecture.bundleTensors(for: bundle.config)
        try ModelBundle.checkShapes(specs, in: bundle.tensors)
        #expect(bundle.tensors.entries.count == specs.count)

        // Initialisations are what the spec says, not zeros.
        let conv = try bundle.tensors.floats("visual.conv1.weight", shape: [64, 3, 16, 16])
        let std = (conv.map { $0 * $0 }.reduce(0, +) / Float(conv.count)).squareRoot()
        #expect(abs(std - 1 / Float(768).squareRoot()) < 0.002)
        #expect(try bundle.tensors.floats("diff_head.bn2.running_var") == Array(repeating: 1, count: 128))
        let bound = 1 / Float(225).squareRoot()
        #expect(try bundle.tensors.floats("diff_head.projection1.weight").allSatisfy { abs($0) <= bound })
    }

    @Test func sameSeedSameBytesOtherSeedOtherWeights() throws {
        let vocabulary = try vocabulary()
        let first = directory.appendingPathComponent("a"), second = directory.appendingPathComponent("b")
        let third = directory.appendingPathComponent("c")
        try DemoBundle.write(architecture: .tiny, seed: 1, vocabulary: vocabulary, to: first)
        try DemoBundle.write(architecture: .tiny, seed: 1, vocabulary: vocabulary, to: second)
        try DemoBundle.write(architecture: .tiny, seed: 2, vocabulary: vocabulary, to: third)
        let name = ModelBundle.FileName.tensors
        let a = try Data(contentsOf: first.appendingPathComponent(name))
        #expect(a == (try Data(contentsOf: second.appendingPathComponent(name))))
        #expect(a != (try Data(contentsOf: third.appendingPathComponent(name))))
    }

    @Test func configThatDoesNotMatchTheTensorsIsRefusedNamingTheKey() throws {
        let out = directory.appendingPathComponent("mismatch")
        try DemoBundle.write(architecture: .tiny, seed: 0, vocabulary: try vocabulary(), to: out)
        var config = try ModelBundle.readConfig(out.appendingPathComponent(ModelBundle.FileName.config))
        config.vision.mlpWidth = 128
        try ModelBundle.writeConfig(config, to: out)
        #expect {
            try ModelBundle.open(out)
        } throws: { error in
            guard case let BundleError.tensors(.shapeMismatch(key, expected, found)) = error else { return false }
            return key == "visual.transformer.resblocks.0.mlp.c_fc.weight" && expected == [128, 64] && found == [256, 64]
        }
    }

    @Test func missingTensorIsRefusedNamingTheKey() throws {
        let out = directory.appendingPathComponent("missing")
        try DemoBundle.write(architecture: .tiny, seed: 0, vocabulary: try vocabulary(), to: out)
        let tensorsURL = out.appendingPathComponent(ModelBundle.FileName.tensors)
        let original = try SafeTensorsFile(contentsOf: tensorsURL)
        var writer = SafeTensorsWriter()
        for entry in original.entries where entry.name != "visual.ln_post.bias" {
            writer.add(entry.name, shape: entry.shape, floats: try original.floats(entry.name))
        }
        try writer.write(to: tensorsURL)
        #expect(throws: BundleError.self) { try ModelBundle.open(out) }
        do {
            _ = try ModelBundle.open(out)
        } catch {
            #expect("\(error)".contains("visual.ln_post.bias"))
        }
    }

    @Test func invalidOrIncompleteConfigsAreRefusedNamingTheKey() throws {
        let out = directory.appendingPathComponent("config")
        try DemoBundle.write(architecture: .tiny, seed: 0, vocabulary: try vocabulary(), to: out)
        let configURL = out.appendingPathComponent(ModelBundle.FileName.config)
        let good = try String(contentsOf: configURL, encoding: .utf8)

        let cases: [(String, String)] = [
            (good.replacingOccurrences(of: "\"heads\" : 4", with: "\"heads\" : 5"), "vision.heads"),
            (good.replacingOccurrences(of: "\"embed_dim\" : 32,", with: ""), "embed_dim"),
            (good.replacingOccurrences(of: "\"format_version\" : 1", with: "\"format_version\" : 9"), "format_version"),
            (good.replacingOccurrences(of: "\"tap_layers\" : [", with: "\"tap_layers\" : [13, "), "tap_layers"),
        ]
        for (text, key) in cases {
            #expect(text != good)
            try text.write(to: configURL, atomically: true, encoding: .utf8)
            do {
                _ = try ModelBundle.open(out)
                Issue.record("config with a bad \(key) was accepted")
            } catch {
                guard case let BundleError.invalidConfig(reportedKey, _) = error else {
                    Issue.record("expected invalidConfig(\(key)), got \(error)")
                    continue
                }
                #expect(reportedKey == key)
            }
        }
        try "{ not json".write(to: configURL, atomically: true, encoding: .utf8)
        #expect(throws: BundleError.self) { try ModelBundle.open(out) }
    }

    @Test func missingFilesAreNamed() throws {
        let out = directory.appendingPathComponent("files")
        try DemoBundle.write(architecture: .tiny, seed: 0, vocabulary: try vocabulary(), to: out)
        try FileManager.default.removeItem(at: out.appendingPathComponent(ModelBundle.FileName.vocabulary))
        do {
            _ = try ModelBundle.open(out)
            Issue.record("bundle without vocabulary was accepted")
        } catch {
            guard case let BundleError.missingFile(path) = error else {
                Issue.record("expected missingFile, got \(error)")
                return
            }
            #expect(path.hasSuffix(ModelBundle.FileName.vocabulary))
        }
        _ = try ModelBundle.open(out, requireVocabulary: false)
        #expect(throws: BundleError.self) {
            try DemoBundle.write(
                architecture: .tiny, seed: 0, vocabulary: directory.appendingPathComponent("absent.gz"),
                to: directory.appendingPathComponent("never"))
        }
    }
}

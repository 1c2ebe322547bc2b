import CLIP
import Foundation
import Tensor

/// Writes randomly initialised bundles of the true architecture (`inctrl model demo`).
///
/// Scores from such a bundle mean nothing; its config says `"demo": true` and every
/// response scored with it repeats that. It exists for trials, benchmarks and tests.
public enum DemoBundle {
    /// Writes `config.json`, `model.safetensors` and a copy of the vocabulary into
    /// `directory` (created if needed). The same `seed` and architecture always give the
    /// same bytes.
    public static func write(
        architecture: BundleConfig, seed: UInt64, vocabulary: URL, to directory: URL
    ) throws(BundleError) {
        guard FileManager.default.fileExists(atPath: vocabulary.path) else { throw .missingFile(vocabulary.path) }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw .writeFailed(path: directory.path, reason: "\(error)")
        }

        var config = architecture
        config.demo = true
        config.source = BundleSource(kind: "demo", seed: seed)
        if !config.name.hasSuffix("-demo") { config.name += "-demo" }

        var generator = SeededGenerator(seed: seed)
        var writer = SafeTensorsWriter()
        writer.metadata = ["format": "pt", "inctrl.demo": "true", "inctrl.seed": String(seed)]
        for spec in InCTRLArchitecture.bundleTensors(for: config) {
            let values = [Float](unsafeUninitializedCapacity: spec.elementCount) { buffer, initialized in
                switch spec.initialisation {
                case let .normal(std): generator.fillNormal(buffer, std: std)
                case let .uniform(bound): generator.fillUniform(buffer, bound: bound)
                case let .constant(value): buffer.initialize(repeating: value)
                }
                initialized = spec.elementCount
            }
            writer.add(spec.key, shape: spec.shape, floats: values)
        }
        do {
            try writer.write(to: directory.appendingPathComponent(ModelBundle.FileName.tensors))
        } catch {
            throw .tensors(error)
        }
        let vocabularyTarget = directory.appendingPathComponent(ModelBundle.FileName.vocabulary)
        do {
            let bytes = try Data(contentsOf: vocabulary)
            try AtomicFile.write(to: vocabularyTarget) { handle in try bytes.withUnsafeBytes { try handle.write($0) } }
        } catch {
            throw .writeFailed(path: vocabularyTarget.path, reason: "\(error)")
        }
        try ModelBundle.writeConfig(config, to: directory)
    }
}

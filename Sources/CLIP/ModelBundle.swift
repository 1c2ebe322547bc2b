import Foundation
import Tensor

/// A model bundle directory (docs/ARCHITECTURE.md, "The model bundle"): `config.json`, `model.safetensors` and the
/// tokenizer vocabulary `bpe_simple_vocab_16e6.txt.gz`.
///
/// Opening checks the config and that every CLIP tensor is present with the shape the
/// config implies, so a mismatch surfaces at load with the key named, not mid-forward.
public struct ModelBundle: Sendable {
    /// File names inside a bundle.
    public enum FileName {
        public static let config = "config.json"
        public static let tensors = "model.safetensors"
        public static let vocabulary = "bpe_simple_vocab_16e6.txt.gz"
    }

    /// The bundle directory.
    public let directory: URL
    /// The parsed, validated `config.json`.
    public let config: BundleConfig
    /// The mapped, validated weights.
    public let tensors: SafeTensorsFile

    /// The tokenizer vocabulary inside the bundle.
    public var vocabularyURL: URL { directory.appendingPathComponent(FileName.vocabulary) }

    /// Opens the bundle at `directory`. `requireVocabulary` is false only for bundles used
    /// without the text tower (parity fixtures carry no vocabulary copy).
    public static func open(_ directory: URL, requireVocabulary: Bool = true) throws(BundleError) -> ModelBundle {
        let config = try readConfig(directory.appendingPathComponent(FileName.config))
        try config.validate()
        let tensorsURL = directory.appendingPathComponent(FileName.tensors)
        guard FileManager.default.fileExists(atPath: tensorsURL.path) else { throw .missingFile(tensorsURL.path) }
        let tensors: SafeTensorsFile
        do {
            tensors = try SafeTensorsFile(contentsOf: tensorsURL)
        } catch {
            throw .tensors(error)
        }
        try checkShapes(CLIPArchitecture.tensors(for: config), in: tensors)
        let bundle = ModelBundle(directory: directory, config: config, tensors: tensors)
        if requireVocabulary, !FileManager.default.fileExists(atPath: bundle.vocabularyURL.path) {
            throw .missingFile(bundle.vocabularyURL.path)
        }
        return bundle
    }

    /// Reads and decodes a `config.json`.
    public static func readConfig(_ url: URL) throws(BundleError) -> BundleConfig {
        guard FileManager.default.fileExists(atPath: url.path) else { throw .missingFile(url.path) }
        do {
            let data = try Data(contentsOf: url)
            return try JSONDecoder().decode(BundleConfig.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            let path = (context.codingPath + [key]).map(\.stringValue).joined(separator: ".")
            throw .invalidConfig(key: path, reason: "is missing")
        } catch let DecodingError.typeMismatch(_, context) {
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw .invalidConfig(key: path, reason: "has the wrong type")
        } catch {
            throw .unreadableConfig(path: url.path, reason: "\(error)")
        }
    }

    /// Checks that every tensor in `specs` exists in `tensors` with exactly its shape.
    public static func checkShapes(_ specs: [WeightSpec], in tensors: SafeTensorsFile) throws(BundleError) {
        for spec in specs {
            guard let entry = tensors.entry(spec.key) else { throw .tensors(.missingTensor(spec.key)) }
            guard entry.shape == spec.shape else {
                throw .tensors(.shapeMismatch(spec.key, expected: spec.shape, found: entry.shape))
            }
        }
    }

    /// Writes `config.json` atomically into `directory`.
    public static func writeConfig(_ config: BundleConfig, to directory: URL) throws(BundleError) {
        let url = directory.appendingPathComponent(FileName.config)
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = try encoder.encode(config) + Data("\n".utf8)
            try AtomicFile.write(to: url) { handle in
                try data.withUnsafeBytes { try handle.write($0) }
            }
        } catch {
            throw .writeFailed(path: url.path, reason: "\(error)")
        }
    }
}

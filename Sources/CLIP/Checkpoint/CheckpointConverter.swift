import Foundation
import Tensor

/// Turns a released InCTRL checkpoint into a model bundle (`inctrl model convert`).
public enum CheckpointConverter {
    /// What a conversion did.
    public struct Report: Sendable {
        /// The bundle's config as written.
        public let config: BundleConfig
        /// Tensors copied into the bundle.
        public let tensorCount: Int
        /// State_dict entries the model does not use (left out of the bundle).
        public let ignoredKeys: [String]
    }

    /// Converts `checkpoint` into a bundle at `directory`.
    ///
    /// Every tensor in `specs` must be in the checkpoint with exactly its shape (the error
    /// names the first that is not); float16/bfloat16/float64 storages become fp32. The
    /// config records the checkpoint's file name and SHA-256. The bundle is opened again
    /// at the end, so what was written is known to load.
    public static func convert(
        checkpoint url: URL, architecture: BundleConfig, specs: [WeightSpec], vocabulary: URL, to directory: URL
    ) throws -> Report {
        let checkpoint = try TorchCheckpoint(contentsOf: url)
        guard FileManager.default.fileExists(atPath: vocabulary.path) else { throw BundleError.missingFile(vocabulary.path) }

        var writer = SafeTensorsWriter()
        writer.metadata = ["format": "pt", "inctrl.source": url.lastPathComponent]
        for spec in specs {
            writer.add(spec.key, shape: spec.shape, floats: try checkpoint.floats(spec.key, shape: spec.shape))
        }
        let wanted = Set(specs.map(\.key))
        let ignored = checkpoint.tensorInfos.map(\.name).filter { !wanted.contains($0) }

        var config = architecture
        config.demo = false
        config.source = BundleSource(kind: "checkpoint", file: url.lastPathComponent, sha256: try SHA256.hex(ofFileAt: url.path))

        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try writer.write(to: directory.appendingPathComponent(ModelBundle.FileName.tensors))
        let vocabularyBytes = try Data(contentsOf: vocabulary)
        try AtomicFile.write(to: directory.appendingPathComponent(ModelBundle.FileName.vocabulary)) { handle in
            try vocabularyBytes.withUnsafeBytes { try handle.write($0) }
        }
        try ModelBundle.writeConfig(config, to: directory)

        let bundle = try ModelBundle.open(directory)
        try ModelBundle.checkShapes(specs, in: bundle.tensors)
        return Report(config: config, tensorCount: specs.count, ignoredKeys: ignored)
    }
}

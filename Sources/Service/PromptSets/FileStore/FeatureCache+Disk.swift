import Foundation
import Tensor

extension FeatureCache {
    /// Writes `writer` atomically to `url` with the cache's format, model and `digest` added
    /// to its metadata.
    func write(_ writer: SafeTensorsWriter, digest: String, to url: URL) throws(FeatureCacheError) {
        var writer = writer
        writer.metadata.merge(["format": Self.format, "model": modelHash, "sha256": digest]) { $1 }
        let folder = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw .fileSystem(operation: "create", path: folder.path, reason: error.localizedDescription)
        }
        do {
            try writer.write(to: url)
        } catch {
            throw .fileSystem(operation: "write", path: url.path, reason: "\(error)")
        }
    }

    /// Removes the hidden temporary files `AtomicFile` leaves when a process dies mid-write.
    /// Best effort: a file that stays only takes space.
    func removeInterruptedWrites() {
        for folder in ["prompt-sets", "calibrations", "text-priors"] {
            let path = directory.appendingPathComponent(folder).path
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { continue }
            for name in names where name.hasPrefix(".") && name.contains(".tmp-") {
                try? FileManager.default.removeItem(atPath: path + "/" + name)
            }
        }
    }
}

import Foundation
import InCTRL
import Tensor

/// Derived features kept on disk so that a restart does not run the towers again: for each
/// prompt set its ``PromptSetFeatures``, for each class name its ``TextPrior``.
///
/// Entries live under `<data_dir>/feature-cache/<model_hash>/` as `.safetensors` files,
/// written atomically. Features depend on the model, so the caller names the model bundle
/// by a hash and entries under any other hash are never read.
///
/// A cache file is never trusted: its metadata must name this model and the requested set
/// or class name, every tensor must have the model's shape, and a SHA-256 over the tensor
/// bytes must match. An entry failing any check is deleted and reported as
/// ``FeatureLookup/discarded(reason:)``; the caller recomputes and stores it again.
public struct FeatureCache: Sendable {
    /// `<data_dir>/feature-cache/<model_hash>`.
    public let directory: URL
    /// The model bundle's hash this cache belongs to.
    public let modelHash: String
    /// The model's shapes.
    public let geometry: FeatureGeometry

    static let format = "inctrl-feature-cache/1"

    /// The cache of the model `key` names under `dataDirectory`. Hidden temporary files that
    /// an interrupted write left behind are removed, so create the cache before writing to it.
    public init(dataDirectory: URL, key: DerivedFeatureKey) throws(FeatureCacheError) {
        guard Self.isSafeDirectoryName(key.modelIdentity) else { throw .invalidModelHash(key.modelIdentity) }
        self.directory = dataDirectory.appendingPathComponent("feature-cache").appendingPathComponent(key.modelIdentity)
        self.modelHash = key.modelIdentity
        self.geometry = key.geometry
        removeInterruptedWrites()
    }

    /// The cached features of the prompt set `id`, which has `shots` images.
    public func promptSetFeatures(for id: PromptSetID, shots: Int) -> FeatureLookup<PromptSetFeatures> {
        let url = promptSetURL(id)
        let expected = ["kind": "prompt-set", "prompt_set": id.hex, "shots": String(shots)]
        return lookup(url, expecting: expected, tensorCount: geometry.tapLayers + 1) { file throws(SafeTensorsError) in
            var taps: [Tensor] = []
            let tapShape = [geometry.patchesPerImage * shots, geometry.tapWidth]
            for layer in 0..<geometry.tapLayers {
                let scalars = try file.floats(Self.tapName(layer), shape: tapShape)
                // `floats` checked the shape, so the count fits.
                taps.append(try! Tensor(shape: tapShape, scalars: scalars))
            }
            let prototype = try file.floats("prototype", shape: [geometry.embeddingWidth])
            let digest = Self.digest(taps.map(\.scalars) + [prototype])
            return (PromptSetFeatures(shots: shots, normalizedTaps: taps, prototype: prototype), digest)
        }
    }

    /// Caches the features of the prompt set `id`.
    public func store(_ features: PromptSetFeatures, for id: PromptSetID) throws(FeatureCacheError) {
        guard features.normalizedTaps.count == geometry.tapLayers else {
            throw .shapeMismatch(what: "tap layers", expected: [geometry.tapLayers], found: [features.normalizedTaps.count])
        }
        var writer = SafeTensorsWriter()
        let tapShape = [geometry.patchesPerImage * features.shots, geometry.tapWidth]
        for (layer, tap) in features.normalizedTaps.enumerated() {
            guard tap.shape == tapShape else { throw .shapeMismatch(what: Self.tapName(layer), expected: tapShape, found: tap.shape) }
            writer.add(Self.tapName(layer), shape: tapShape, floats: tap.scalars)
        }
        guard features.prototype.count == geometry.embeddingWidth else {
            throw .shapeMismatch(what: "prototype", expected: [geometry.embeddingWidth], found: [features.prototype.count])
        }
        writer.add("prototype", shape: [geometry.embeddingWidth], floats: features.prototype)
        writer.metadata = ["kind": "prompt-set", "prompt_set": id.hex, "shots": String(features.shots)]
        let digest = Self.digest(features.normalizedTaps.map(\.scalars) + [features.prototype])
        try write(writer, digest: digest, to: promptSetURL(id))
    }

    /// Forgets the features and calibration of the prompt set `id` (nothing happens when
    /// there are none).
    public func removeFeatures(for id: PromptSetID) throws(FeatureCacheError) {
        for url in [promptSetURL(id), calibrationURL(id)] {
            guard unlink(url.path) == 0 || errno == ENOENT else {
                throw .fileSystem(operation: "remove", path: url.path, reason: String(cString: strerror(errno)))
            }
        }
    }

    /// The cached calibration of the prompt set `id`, which has `shots` images and `extra`
    /// calibration images.
    public func calibration(for id: PromptSetID, shots: Int, extra: Int) -> FeatureLookup<Calibration> {
        let expected = ["kind": "calibration", "prompt_set": id.hex, "shots": String(shots), "extra": String(extra)]
        let count = (shots >= 2 ? shots : 0) + extra
        return lookup(calibrationURL(id), expecting: expected, tensorCount: 2) { file throws(SafeTensorsError) in
            let scores = try file.floats("scores", shape: [count])
            let maps = try file.floats("maps", shape: [count, geometry.patchesPerImage])
            let observations = (0..<count).map { index in
                Calibration.Observation(
                    score: scores[index],
                    residualMap: Array(maps[(index * geometry.patchesPerImage)..<((index + 1) * geometry.patchesPerImage)]))
            }
            let shotCount = shots >= 2 ? shots : 0
            let calibration = Calibration(shots: Array(observations[..<shotCount]), extra: Array(observations[shotCount...]))
            return (calibration, Self.digest([scores, maps]))
        }
    }

    /// Caches the calibration of the prompt set `id`, which has `shots` images.
    public func store(_ calibration: Calibration, for id: PromptSetID, shots: Int) throws(FeatureCacheError) {
        let observations = calibration.observations
        for observation in observations where observation.residualMap.count != geometry.patchesPerImage {
            throw .shapeMismatch(what: "calibration residual map", expected: [geometry.patchesPerImage], found: [observation.residualMap.count])
        }
        let scores = observations.map(\.score)
        let maps = observations.flatMap(\.residualMap)
        var writer = SafeTensorsWriter()
        writer.add("scores", shape: [observations.count], floats: scores)
        writer.add("maps", shape: [observations.count, geometry.patchesPerImage], floats: maps)
        writer.metadata = [
            "kind": "calibration", "prompt_set": id.hex, "shots": String(shots), "extra": String(calibration.extra.count),
        ]
        try write(writer, digest: Self.digest([scores, maps]), to: calibrationURL(id))
    }

    /// The cached text prior of `className`.
    public func textPrior(for className: String) -> FeatureLookup<TextPrior> {
        let expected = ["kind": "text-prior", "class_name": className]
        return lookup(textPriorURL(className), expecting: expected, tensorCount: 2) { file throws(SafeTensorsError) in
            let normal = try file.floats("normal", shape: [geometry.embeddingWidth])
            let anomalous = try file.floats("anomalous", shape: [geometry.embeddingWidth])
            return (TextPrior(className: className, normal: normal, anomalous: anomalous), Self.digest([normal, anomalous]))
        }
    }

    /// Caches `prior` under its class name.
    public func store(_ prior: TextPrior) throws(FeatureCacheError) {
        for (name, vector) in [("normal", prior.normal), ("anomalous", prior.anomalous)] where vector.count != geometry.embeddingWidth {
            throw .shapeMismatch(what: "text prior '\(name)'", expected: [geometry.embeddingWidth], found: [vector.count])
        }
        var writer = SafeTensorsWriter()
        writer.add("normal", shape: [geometry.embeddingWidth], floats: prior.normal)
        writer.add("anomalous", shape: [geometry.embeddingWidth], floats: prior.anomalous)
        writer.metadata = ["kind": "text-prior", "class_name": prior.className]
        try write(writer, digest: Self.digest([prior.normal, prior.anomalous]), to: textPriorURL(prior.className))
    }

    func promptSetURL(_ id: PromptSetID) -> URL {
        directory.appendingPathComponent("prompt-sets").appendingPathComponent(id.hex + ".safetensors")
    }

    func calibrationURL(_ id: PromptSetID) -> URL {
        directory.appendingPathComponent("calibrations").appendingPathComponent(id.hex + ".safetensors")
    }

    /// Class names may hold any character, so their files are named by a hash of the name;
    /// the name itself is in the metadata and checked on every read.
    func textPriorURL(_ className: String) -> URL {
        let name = String(SHA256.hex(Array(className.utf8)).prefix(32))
        return directory.appendingPathComponent("text-priors").appendingPathComponent(name + ".safetensors")
    }

    private static func tapName(_ layer: Int) -> String { "tap.\(layer)" }

    /// 1 to 128 ASCII letters, digits, `.`, `_` or `-`, not starting with `.`: a name that
    /// cannot climb out of the cache directory or hide in it.
    private static func isSafeDirectoryName(_ name: String) -> Bool {
        guard (1...128).contains(name.utf8.count), !name.hasPrefix(".") else { return false }
        return name.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                true
            default:
                false
            }
        }
    }

    /// SHA-256 over the bytes of `arrays`, in order: what catches a flipped bit in a cache
    /// file's data, which its structure alone cannot.
    private static func digest(_ arrays: [[Float]]) -> String {
        var sha = SHA256()
        for array in arrays {
            array.withUnsafeBytes { sha.update($0) }
        }
        return sha.hexDigest()
    }

    /// Opens `url` and accepts it only if its metadata holds `expected` plus this cache's
    /// format and model, it holds `tensorCount` tensors, `decode` succeeds, and the digest
    /// `decode` computes over the tensors equals the stored one. Anything else deletes the file.
    private func lookup<Value: Sendable>(
        _ url: URL, expecting expected: [String: String], tensorCount: Int,
        decode: (SafeTensorsFile) throws(SafeTensorsError) -> (Value, digest: String)
    ) -> FeatureLookup<Value> {
        guard FileManager.default.fileExists(atPath: url.path) else { return .miss }
        let reason: String
        do {
            let file = try SafeTensorsFile(contentsOf: url)
            let required = expected.merging(["format": Self.format, "model": modelHash]) { $1 }
            if let mismatch = required.keys.sorted().first(where: { file.metadata[$0] != required[$0] }) {
                reason = "its metadata '\(mismatch)' is '\(file.metadata[mismatch] ?? "absent")', expected '\(required[mismatch]!)'"
            } else if file.entries.count != tensorCount {
                reason = "it holds \(file.entries.count) tensors, expected \(tensorCount)"
            } else {
                let (value, digest) = try decode(file)
                if digest == file.metadata["sha256"] { return .hit(value) }
                reason = "its tensors do not match their SHA-256"
            }
        } catch {
            reason = "\(error)"
        }
        try? FileManager.default.removeItem(at: url)
        return .discarded(reason: "\(url.lastPathComponent): \(reason)")
    }
}

import CLIP
import Foundation
import Tensor

/// What a response says about the model that produced it.
public struct ModelInfo: Sendable, Equatable, Codable {
    /// The bundle's name.
    public let name: String
    /// The precision the towers' matmuls ran in (`fp32` or `bf16`).
    public let precision: String
    /// True for randomly initialised bundles: scores mean nothing.
    public let demo: Bool
}

/// Why the model could not be loaded or could not compute a result.
public enum InCTRLError: Error, CustomStringConvertible {
    /// The bundle is unusable (the error names the file or key).
    case bundle(BundleError)
    /// The tokenizer vocabulary is unusable.
    case tokenizer(CLIPTokenizerError)
    /// A CLIP tower failed.
    case clip(CLIPError)
    /// A kernel failed.
    case kernel(TensorError)
    /// A prompt set needs at least one image.
    case emptyPromptSet
    /// This CPU cannot run the requested precision natively.
    case unsupportedPrecision(WeightPrecision)

    public var description: String {
        switch self {
        case let .bundle(error): "\(error)"
        case let .tokenizer(error): "\(error)"
        case let .clip(error): "\(error)"
        case let .kernel(error): "tensor kernel failed: \(error)"
        case .emptyPromptSet: "a prompt set needs at least one normal image"
        case let .unsupportedPrecision(precision):
            "precision '\(precision.rawValue)' needs a CPU that multiplies \(precision.rawValue) natively "
                + "(AVX-512 BF16 or AMX); this one offers \(ComputeEngine.instructionSet); use fp32"
        }
    }
}

/// InCTRL loaded from a bundle: both CLIP towers, the tokenizer and the residual heads (the
/// text tower and tokenizer finish loading in the background; see ``DeferredTextEncoder``).
///
/// Every method is synchronous compute; ``ModelActor`` is what serialises calls and
/// measures queueing. The towers are safe to share (each serialises its own workspace).
public final class InCTRLModel: Sendable {
    /// The bundle's architecture and provenance.
    public let config: BundleConfig
    /// Name, precision and demo flag, as responses report them.
    public let info: ModelInfo
    /// What caches of derived features are keyed by: the SHA-256 of `model.safetensors`,
    /// followed by `-bf16` when the towers run in bf16 (their features differ from fp32's).
    public let identity: String
    /// The SHA-256 of `model.safetensors` behind ``identity``, and whether it came from the
    /// hash cache or was computed at this load.
    public let weightsDigest: ModelDigest
    /// The precision the towers' matmuls run in.
    public let precision: WeightPrecision

    /// The image encoder.
    let vision: VisionTower
    /// The prompt encoder and its tokenizer, loading in the background (see
    /// ``DeferredTextEncoder``).
    let text: DeferredTextEncoder
    let weights: InCTRLWeights
    let scorer: InCTRLScorer

    /// Whether this machine can run the towers in `precision`: fp32 always, bf16 where the
    /// CPU multiplies bf16 natively.
    public static func supports(_ precision: WeightPrecision) -> Bool {
        switch precision {
        case .fp32: true
        case .bf16: ComputeEngine.multipliesBF16Natively
        }
    }

    /// Loads every weight of `bundle` and checks it, with the CLIP towers' matmul weights in
    /// `precision`. The InCTRL heads always run in fp32.
    ///
    /// ``identity`` needs the SHA-256 of the whole weights file; with `hashCache` it is taken
    /// from there when the file has not changed since it was last hashed (a long-running
    /// service restarts often on the same bundle), else the file is read and hashed.
    public init(bundle: ModelBundle, precision: WeightPrecision = .fp32, hashCache: ModelHashCache? = nil) throws(InCTRLError) {
        guard Self.supports(precision) else { throw .unsupportedPrecision(precision) }
        let engine: ComputeEngine
        do {
            engine = try ComputeEngine()
        } catch {
            throw .kernel(error)
        }
        do {
            try ModelBundle.checkShapes(InCTRLArchitecture.tensors(for: bundle.config), in: bundle.tensors)
        } catch {
            throw .bundle(error)
        }
        do {
            vision = try CLIPModel.vision(of: bundle, engine: engine, precision: precision)
        } catch {
            throw .clip(error)
        }
        do {
            weights = try InCTRLWeights(from: bundle.tensors, config: bundle.config)
        } catch {
            throw .bundle(.tensors(error))
        }
        config = bundle.config
        scorer = InCTRLScorer(weights: weights, engine: engine)
        self.precision = precision
        info = ModelInfo(name: bundle.config.name, precision: precision.rawValue, demo: bundle.config.demo)
        do {
            let path = bundle.tensors.url.path
            if let hashCache {
                weightsDigest = try hashCache.digest(ofFileAt: path)
            } else {
                weightsDigest = ModelDigest(sha256: try SHA256.hex(ofFileAt: path), reused: false)
            }
            let digest = weightsDigest.sha256
            identity = precision == .fp32 ? digest : "\(digest)-\(precision.rawValue)"
        } catch {
            throw .bundle(.tensors(.unreadable(path: error.path, reason: error.reason)))
        }
        // Started last, so it does not compete with the loads a start waits for.
        text = DeferredTextEncoder { () throws(InCTRLError) in
            let tower: TextTower
            do throws(CLIPError) {
                tower = try CLIPModel.text(of: bundle, engine: engine, precision: precision)
            } catch {
                throw .clip(error)
            }
            do throws(CLIPTokenizerError) {
                return DeferredTextEncoder.Loaded(tower: tower, tokenizer: try CLIPTokenizer(vocabularyURL: bundle.vocabularyURL))
            } catch {
                throw .tokenizer(error)
            }
        }
    }

    /// The pooled embedding and tap-layer outputs of one normalised `[3, 240, 240]` image.
    public func imageFeatures(_ image: Tensor) throws(InCTRLError) -> ImageFeatures {
        let features: VisionFeatures
        do {
            features = try vision.encode(image, tapLayers: config.tapLayers)
        } catch {
            throw .clip(error)
        }
        return ImageFeatures(embedding: features.pooled.scalars, taps: features.taps)
    }

    /// The features of several normalised images from one stacked vision forward, in order:
    /// each bit for bit what ``imageFeatures(_:)`` gives for that image alone.
    public func imageFeatures(_ images: [Tensor]) throws(InCTRLError) -> [ImageFeatures] {
        let features: [VisionFeatures]
        do {
            features = try vision.encode(images, tapLayers: config.tapLayers)
        } catch {
            throw .clip(error)
        }
        return features.map { ImageFeatures(embedding: $0.pooled.scalars, taps: $0.taps) }
    }

    /// The text prior of `className`: 242 (or 2) prompts through the text tower.
    public func textPrior(className: String) throws(InCTRLError) -> TextPrior {
        let normal = TextPrompts.normal(for: className)
        let anomalous = TextPrompts.anomalous(for: className)
        let encoder = try text.loaded()
        let rows = (normal + anomalous).map { encoder.tokenizer.tokenize($0, contextLength: config.text.contextLength) }
        let embeddings: Tensor
        do {
            embeddings = try encoder.tower.encode(rows)
        } catch {
            throw .clip(error)
        }
        let width = embeddings.shape[1]
        let vectors = (0..<rows.count).map { Array(embeddings.scalars[($0 * width)..<(($0 + 1) * width)]) }
        return TextPrior(
            className: className, normalEmbeddings: Array(vectors[..<normal.count]),
            anomalousEmbeddings: Array(vectors[normal.count...]))
    }

    /// The features of `images` from stacked vision forwards of at most `batchSize` images
    /// each, in order: bit for bit what ``imageFeatures(_:)`` gives for each image alone.
    func imageFeatures(_ images: [Tensor], batchSize: Int) throws(InCTRLError) -> [ImageFeatures] {
        let size = max(1, batchSize)
        var features: [ImageFeatures] = []
        features.reserveCapacity(images.count)
        for first in stride(from: 0, to: images.count, by: size) {
            features += try imageFeatures(Array(images[first..<min(first + size, images.count)]))
        }
        return features
    }

    /// The cached features of a prompt set of normalised images (at least one). The shots'
    /// vision forwards run stacked, `batchSize` at a time (as queries are batched; each
    /// shot's features are those it gets alone, so the result does not depend on it).
    public func promptSetFeatures(images: [Tensor], batchSize: Int = 1) throws(InCTRLError) -> PromptSetFeatures {
        guard !images.isEmpty else { throw .emptyPromptSet }
        let shots = try imageFeatures(images, batchSize: batchSize)
        do {
            return try PromptSetFeatures(shots: shots, adapter: weights.adapter, engine: scorer.engine)
        } catch {
            throw .kernel(error)
        }
    }

    /// The features of a prompt set and, when it has at least two shots, each shot scored
    /// against the other K − 1 (leave-one-out), in shot order: what scoring that shot against
    /// a set registered from the other K − 1 images gives, bit for bit, as the features of
    /// each image do not depend on the others'. The forwards run `batchSize` at a time, as in
    /// ``promptSetFeatures(images:batchSize:)``.
    public func promptSetFeatures(
        images: [Tensor], leaveOneOutWith textPrior: TextPrior, batchSize: Int = 1
    ) throws(InCTRLError) -> (features: PromptSetFeatures, leaveOneOut: [InCTRLScore]) {
        guard !images.isEmpty else { throw .emptyPromptSet }
        let shots = try imageFeatures(images, batchSize: batchSize)
        do {
            let features = try PromptSetFeatures(shots: shots, adapter: weights.adapter, engine: scorer.engine)
            guard shots.count >= 2 else { return (features, []) }
            var scores: [InCTRLScore] = []
            for held in shots.indices {
                var others = shots
                others.remove(at: held)
                let rest = try PromptSetFeatures(shots: others, adapter: weights.adapter, engine: scorer.engine)
                scores.append(try scorer.score(query: shots[held], promptSet: rest, textPrior: textPrior))
            }
            return (features, scores)
        } catch {
            throw .kernel(error)
        }
    }

    /// Scores one normalised image against a prompt set: one vision forward plus the
    /// residual matching and heads.
    public func score(image: Tensor, promptSet: PromptSetFeatures, textPrior: TextPrior) throws(InCTRLError) -> InCTRLScore {
        try score(features: try imageFeatures(image), promptSet: promptSet, textPrior: textPrior)
    }

    /// Scores already-computed query features.
    public func score(features: ImageFeatures, promptSet: PromptSetFeatures, textPrior: TextPrior) throws(InCTRLError) -> InCTRLScore {
        do {
            return try scorer.score(query: features, promptSet: promptSet, textPrior: textPrior)
        } catch {
            throw .kernel(error)
        }
    }
}

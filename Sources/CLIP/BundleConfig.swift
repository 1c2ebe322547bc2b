import Foundation

/// The vision tower's architecture (OpenCLIP `CLIPVisionCfg` terms).
public struct VisionConfig: Codable, Sendable, Equatable {
    /// Input side length in pixels (240 for ViT-B-16-plus-240).
    public var imageSize: Int
    /// Patch side length in pixels; `imageSize / patchSize` patches per side.
    public var patchSize: Int
    /// Residual stream width.
    public var width: Int
    /// Number of transformer blocks.
    public var layers: Int
    /// Attention heads per block; `width` must divide evenly.
    public var heads: Int
    /// Hidden width of each block's MLP.
    public var mlpWidth: Int

    /// Patches per side.
    public var gridSize: Int { imageSize / patchSize }
    /// Patch tokens (without the class token).
    public var patchCount: Int { gridSize * gridSize }

    enum CodingKeys: String, CodingKey {
        case imageSize = "image_size", patchSize = "patch_size", width, layers, heads
        case mlpWidth = "mlp_width"
    }

    public init(imageSize: Int, patchSize: Int, width: Int, layers: Int, heads: Int, mlpWidth: Int) {
        self.imageSize = imageSize
        self.patchSize = patchSize
        self.width = width
        self.layers = layers
        self.heads = heads
        self.mlpWidth = mlpWidth
    }
}

/// The text tower's architecture (OpenCLIP `CLIPTextCfg` terms).
public struct TextConfig: Codable, Sendable, Equatable {
    /// Tokens per sequence (77).
    public var contextLength: Int
    /// Rows of the token embedding (49408).
    public var vocabSize: Int
    /// Residual stream width.
    public var width: Int
    /// Number of transformer blocks.
    public var layers: Int
    /// Attention heads per block; `width` must divide evenly.
    public var heads: Int
    /// Hidden width of each block's MLP.
    public var mlpWidth: Int

    enum CodingKeys: String, CodingKey {
        case contextLength = "context_length", vocabSize = "vocab_size", width, layers, heads
        case mlpWidth = "mlp_width"
    }

    public init(contextLength: Int, vocabSize: Int, width: Int, layers: Int, heads: Int, mlpWidth: Int) {
        self.contextLength = contextLength
        self.vocabSize = vocabSize
        self.width = width
        self.layers = layers
        self.heads = heads
        self.mlpWidth = mlpWidth
    }
}

/// Where a bundle's weights came from, recorded in `config.json` (docs/ARCHITECTURE.md, "The model bundle").
public struct BundleSource: Codable, Sendable, Equatable {
    /// `demo` (random initialisation), `checkpoint` (a converted InCTRL checkpoint), or
    /// `fixture` (written by a parity tool).
    public var kind: String
    /// The seed of a demo bundle.
    public var seed: UInt64?
    /// The file name a converted bundle was read from.
    public var file: String?
    /// SHA-256 (hex) of that file.
    public var sha256: String?

    public init(kind: String, seed: UInt64? = nil, file: String? = nil, sha256: String? = nil) {
        self.kind = kind
        self.seed = seed
        self.file = file
        self.sha256 = sha256
    }
}

/// A model bundle's `config.json`: the architecture and the bundle's provenance.
public struct BundleConfig: Codable, Sendable, Equatable {
    /// The only `format` value this version reads.
    public static let formatName = "inctrl-bundle"
    /// The only `format_version` this version reads.
    public static let formatVersion = 1

    /// Always ``formatName``.
    public var format: String = BundleConfig.formatName
    /// Always ``formatVersion``.
    public var formatVersion: Int = BundleConfig.formatVersion
    /// A human name, reported in every response.
    public var name: String
    /// True for randomly initialised bundles: their scores mean nothing, and every response
    /// scored with one says so.
    public var demo: Bool
    /// What the weights were converted from.
    public var source: BundleSource
    /// Vision tower architecture.
    public var vision: VisionConfig
    /// Text tower architecture.
    public var text: TextConfig
    /// Joint embedding width (`visual.proj` and `text_projection` output).
    public var embedDim: Int
    /// 1-based block numbers whose residual stream InCTRL taps (7, 9, 11).
    public var tapLayers: [Int]
    /// Bottleneck width of InCTRL's adapter (`embedDim / 4`).
    public var adapterHidden: Int

    enum CodingKeys: String, CodingKey {
        case format, formatVersion = "format_version", name, demo, source, vision, text
        case embedDim = "embed_dim", tapLayers = "tap_layers", adapterHidden = "adapter_hidden"
    }

    public init(
        name: String, demo: Bool, source: BundleSource, vision: VisionConfig, text: TextConfig,
        embedDim: Int, tapLayers: [Int], adapterHidden: Int
    ) {
        self.name = name
        self.demo = demo
        self.source = source
        self.vision = vision
        self.text = text
        self.embedDim = embedDim
        self.tapLayers = tapLayers
        self.adapterHidden = adapterHidden
    }

    /// OpenCLIP `ViT-B-16-plus-240` as InCTRL uses it (docs/MODEL.md §1).
    public static let vitB16Plus240 = BundleConfig(
        name: "inctrl-vit-b-16-plus-240", demo: false, source: BundleSource(kind: "checkpoint"),
        vision: VisionConfig(imageSize: 240, patchSize: 16, width: 896, layers: 12, heads: 14, mlpWidth: 3584),
        text: TextConfig(contextLength: 77, vocabSize: 49408, width: 640, layers: 12, heads: 10, mlpWidth: 2560),
        embedDim: 640, tapLayers: [7, 9, 11], adapterHidden: 160)

    /// A narrow model with the true image size, patch grid, vocabulary and tap layers, for
    /// parity fixtures and fast trials: the residual map is still 15×15.
    public static let tiny = BundleConfig(
        name: "inctrl-tiny", demo: true, source: BundleSource(kind: "demo"),
        vision: VisionConfig(imageSize: 240, patchSize: 16, width: 64, layers: 12, heads: 4, mlpWidth: 256),
        text: TextConfig(contextLength: 77, vocabSize: 49408, width: 16, layers: 3, heads: 2, mlpWidth: 64),
        embedDim: 32, tapLayers: [7, 9, 11], adapterHidden: 8)

    /// Checks the invariants the forward code relies on; the error names the offending key.
    public func validate() throws(BundleError) {
        guard format == Self.formatName else {
            throw .invalidConfig(key: "format", reason: "is '\(format)', expected '\(Self.formatName)'")
        }
        guard formatVersion == Self.formatVersion else {
            throw .invalidConfig(key: "format_version", reason: "is \(formatVersion), this version reads \(Self.formatVersion)")
        }
        let positive: [(String, Int)] = [
            ("vision.image_size", vision.imageSize), ("vision.patch_size", vision.patchSize),
            ("vision.width", vision.width), ("vision.layers", vision.layers),
            ("vision.heads", vision.heads), ("vision.mlp_width", vision.mlpWidth),
            ("text.context_length", text.contextLength), ("text.vocab_size", text.vocabSize),
            ("text.width", text.width), ("text.layers", text.layers), ("text.heads", text.heads),
            ("text.mlp_width", text.mlpWidth), ("embed_dim", embedDim), ("adapter_hidden", adapterHidden),
        ]
        for (key, value) in positive where value <= 0 {
            throw .invalidConfig(key: key, reason: "must be positive, is \(value)")
        }
        guard vision.imageSize % vision.patchSize == 0 else {
            throw .invalidConfig(key: "vision.patch_size", reason: "\(vision.patchSize) does not divide image_size \(vision.imageSize)")
        }
        guard vision.width % vision.heads == 0 else {
            throw .invalidConfig(key: "vision.heads", reason: "\(vision.heads) does not divide width \(vision.width)")
        }
        guard text.width % text.heads == 0 else {
            throw .invalidConfig(key: "text.heads", reason: "\(text.heads) does not divide width \(text.width)")
        }
        guard text.contextLength >= 2, text.vocabSize > Int(49407) else {
            throw .invalidConfig(key: "text.vocab_size", reason: "must hold the end-of-text id 49407")
        }
        guard !tapLayers.isEmpty, tapLayers.allSatisfy({ (1...vision.layers).contains($0) }) else {
            throw .invalidConfig(key: "tap_layers", reason: "\(tapLayers) must be block numbers in 1...\(vision.layers)")
        }
    }
}

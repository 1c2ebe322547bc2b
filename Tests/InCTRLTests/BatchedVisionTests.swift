import CLIP
import Foundation
import Tensor
import Testing
@testable import InCTRL

/// Dynamic batching stacks queries into one vision forward; every image's features must be
/// the bits it gets alone, for every batch size the service may form (1…8), on real images.
@Suite struct BatchedVisionTests {
    /// Eight real images: the six ELPV cells and the two photos among the imaging fixtures.
    static let imageNames = [
        "png_elpv_cell0001_defective.png", "png_elpv_cell0004_functional.png", "jpeg_photo_china_640x427.jpg",
        "png_elpv_cell0002_defective.png", "png_elpv_cell0009_functional.png", "jpeg_photo_rocket_640x427.jpg",
        "png_elpv_cell0003_defective.png", "png_elpv_cell0011_functional.png",
    ]

    static func images() throws -> [Tensor] {
        let directory = InCTRLModelTests.repository.appendingPathComponent("Tests/Fixtures/imaging/inputs")
        let pipeline = ImagePipeline()
        return try imageNames.map { name in
            try pipeline.prepare([UInt8](Data(contentsOf: directory.appendingPathComponent(name)))).tensor
        }
    }

    /// The full model's vision shapes (width 896, 14 heads, MLP 3584, 226 tokens) with two
    /// blocks instead of twelve: every kernel of the real forward at its real size, at a sixth of
    /// the weights. Tapped after both blocks.
    static let fullWidth: BundleConfig = {
        var config = BundleConfig.tiny
        config.name = "inctrl-full-width-two-blocks"
        let full = BundleConfig.vitB16Plus240
        config.vision = VisionConfig(
            imageSize: full.vision.imageSize, patchSize: full.vision.patchSize, width: full.vision.width, layers: 2,
            heads: full.vision.heads, mlpWidth: full.vision.mlpWidth)
        config.embedDim = full.embedDim
        config.adapterHidden = full.adapterHidden
        config.tapLayers = [1, 2]
        return config
    }()

    static func tower(_ architecture: BundleConfig, precision: WeightPrecision) throws -> (VisionTower, [Int]) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("inctrl-batched-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try DemoBundle.write(architecture: architecture, seed: 41, vocabulary: InCTRLModelTests.vocabulary, to: directory)
        let bundle = try ModelBundle.open(directory)
        let model = try CLIPModel(bundle: bundle, engine: ComputeEngine(), precision: precision)
        return (model.vision, bundle.config.tapLayers)
    }

    static var precisions: [WeightPrecision] {
        ComputeEngine.multipliesBF16Natively ? [.fp32, .bf16] : [.fp32]
    }

    /// The bit patterns of everything the tower returns for one image.
    static func bits(_ features: VisionFeatures) -> [UInt32] {
        (features.pooled.scalars + features.taps.flatMap(\.scalars)).map(\.bitPattern)
    }

    func expectBatchesEqualSingles(_ architecture: BundleConfig, precision: WeightPrecision) throws {
        let (tower, tapLayers) = try Self.tower(architecture, precision: precision)
        let images = try Self.images()
        // Alone first, while the workspace holds one image; again once it has grown to eight.
        let alone = try images.map { Self.bits(try tower.encode($0, tapLayers: tapLayers)) }
        #expect(Set(alone).count == images.count, "the images must give different features")
        for size in 1...images.count {
            // Each size starts at a different image, so every image lands at several positions.
            let members = (0..<size).map { (size + $0) % images.count }
            let batch = try tower.encode(members.map { images[$0] }, tapLayers: tapLayers)
            #expect(batch.count == size)
            for (position, member) in members.enumerated() {
                #expect(
                    Self.bits(batch[position]) == alone[member],
                    "\(precision), batch of \(size): image \(member) at position \(position) differs from it alone")
            }
        }
        #expect(tower.workspaceImages == images.count)
        for (index, image) in images.enumerated() {
            #expect(Self.bits(try tower.encode(image, tapLayers: tapLayers)) == alone[index], "image \(index) alone after batching")
        }
    }

    @Test(arguments: precisions)
    func tinyBatchesOfOneToEightEqualEachImageAlone(precision: WeightPrecision) throws {
        try expectBatchesEqualSingles(.tiny, precision: precision)
    }

    @Test(arguments: precisions)
    func fullWidthBatchesOfOneToEightEqualEachImageAlone(precision: WeightPrecision) throws {
        try expectBatchesEqualSingles(Self.fullWidth, precision: precision)
    }

    @Test func aBadImageRefusesTheWholeBatchBeforeComputing() throws {
        let (tower, tapLayers) = try Self.tower(.tiny, precision: .fp32)
        let images = try Self.images()
        #expect(throws: CLIPError.self) {
            try tower.encode([images[0], Tensor(zeros: [3, 224, 224])], tapLayers: tapLayers)
        }
        #expect(tower.workspaceImages == 1)
        #expect(try tower.encode([], tapLayers: tapLayers).isEmpty)
    }
}

import CLIP
import Foundation
import Tensor
import Testing

@Suite struct VisionTowerTests {
    let fixture: CLIPFixture
    let tower: VisionTower

    init() throws {
        fixture = try CLIPFixture()
        let engine = try ComputeEngine()
        let config = fixture.bundle.config
        tower = VisionTower(
            weights: try VisionWeights(
                loading: fixture.bundle.tensors, config: config.vision, embedDim: config.embedDim, engine: engine),
            engine: engine)
    }

    @Test func matchesOpenCLIP() throws {
        #expect(fixture.imageCount >= 2)
        for index in 0..<fixture.imageCount {
            let features = try tower.encode(fixture.image(index), tapLayers: [7, 9, 11])
            let pooled = try expectClose(features.pooled, fixture.row(index, of: "pooled"))
            #expect(pooled.ok, "image \(index) pooled: max error \(pooled.error) at scale \(pooled.scale)")
            for layer in [7, 9, 11] {
                let tap = try #require(features.tap(layer: layer))
                #expect(tap.shape == [225, 64])
                let result = try expectClose(tap, fixture.row(index, of: "tap_\(layer)"))
                #expect(result.ok, "image \(index) tap \(layer): max error \(result.error) at scale \(result.scale)")
            }
        }
    }

    @Test func batchEqualsSingleImagesBitForBit() throws {
        let images = try (0..<fixture.imageCount).map { try fixture.image($0) }
        let batch = try tower.encode(images, tapLayers: [11, 7])
        for (index, image) in images.enumerated() {
            #expect(batch[index] == (try tower.encode(image, tapLayers: [11, 7])))
        }
        #expect(batch[0].tapLayers == [11, 7])
        #expect(batch[0] != batch[1])
    }

    @Test func rejectsBadInputs() throws {
        #expect(throws: CLIPError.self) { try tower.encode(Tensor(zeros: [3, 224, 224]), tapLayers: [7]) }
        #expect(throws: CLIPError.self) { try tower.encode(Tensor(zeros: [3, 240, 240]), tapLayers: [0]) }
        #expect(throws: CLIPError.self) { try tower.encode(Tensor(zeros: [3, 240, 240]), tapLayers: [13]) }
    }
}

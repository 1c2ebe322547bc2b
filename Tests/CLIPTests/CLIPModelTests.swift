import CLIP
import Foundation
import Tensor
import Testing

@Suite struct CLIPModelTests {
    @Test func loadsBothTowersFromABundle() throws {
        let fixture = try CLIPFixture()
        let engine = try ComputeEngine()
        let model = try CLIPModel(bundle: fixture.bundle, engine: engine)
        #expect(model.vision.embedDim == 32 && model.text.embedDim == 32)
        let features = try model.vision.encode(fixture.image(0), tapLayers: model.config.tapLayers)
        let result = try expectClose(features.pooled, fixture.row(0, of: "pooled"))
        #expect(result.ok)
        #expect(engine.preparedKernels.contains { $0.hasPrefix("linear") })
    }
}

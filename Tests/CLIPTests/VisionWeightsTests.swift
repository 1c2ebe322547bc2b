import CLIP
import Foundation
import Tensor
import Testing

@Suite struct VisionWeightsTests {
    let fixture: CLIPFixture
    init() throws { fixture = try CLIPFixture() }

    private func load(_ file: SafeTensorsFile) throws -> VisionWeights {
        let config = fixture.bundle.config
        return try VisionWeights(loading: file, config: config.vision, embedDim: config.embedDim, engine: ComputeEngine())
    }

    @Test(arguments: ["visual.conv1.weight", "visual.transformer.resblocks.5.mlp.c_fc.bias", "visual.ln_post.weight", "visual.proj"])
    func missingTensorIsNamed(key: String) throws {
        let file = try WeightsFileEditor.editedCopy(of: fixture.bundle.tensors, .remove(key))
        let error = try #require(throws: CLIPError.self) { try load(file) }
        guard case .weights(.missingTensor(key)) = error else {
            Issue.record("expected a missing-tensor error for \(key), got \(error)")
            return
        }
        #expect("\(error)".contains(key))
    }

    @Test func misShapedTensorIsNamed() throws {
        let key = "visual.transformer.resblocks.11.attn.in_proj_weight"
        let file = try WeightsFileEditor.editedCopy(of: fixture.bundle.tensors, .reshape(key, to: [192, 32]))
        let error = try #require(throws: CLIPError.self) { try load(file) }
        guard case .weights(.shapeMismatch(key, expected: [192, 64], found: [192, 32])) = error else {
            Issue.record("expected a shape error for \(key), got \(error)")
            return
        }
        #expect("\(error)".contains(key))
    }

    @Test func loadsEveryBlock() throws {
        let weights = try load(fixture.bundle.tensors)
        #expect(weights.blocks.count == 12)
        #expect(weights.blocks.allSatisfy { $0.width == 64 && $0.heads == 4 && $0.mlpWidth == 256 })
        #expect(weights.initialTokens.shape == [226, 64])
        #expect(weights.patchEmbedding.inFeatures == 768 && !weights.patchEmbedding.hasBias)
    }
}

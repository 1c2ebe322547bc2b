import CLIP
import Foundation
import Tensor
import Testing

@Suite struct TextWeightsTests {
    let fixture: CLIPFixture
    init() throws { fixture = try CLIPFixture() }

    private func load(_ file: SafeTensorsFile) throws -> TextWeights {
        let config = fixture.bundle.config
        return try TextWeights(loading: file, config: config.text, embedDim: config.embedDim, engine: ComputeEngine())
    }

    @Test(arguments: ["token_embedding.weight", "transformer.resblocks.2.ln_2.bias", "text_projection"])
    func missingTensorIsNamed(key: String) throws {
        let file = try WeightsFileEditor.editedCopy(of: fixture.bundle.tensors, .remove(key))
        let error = try #require(throws: CLIPError.self) { try load(file) }
        guard case .weights(.missingTensor(key)) = error else {
            Issue.record("expected a missing-tensor error for \(key), got \(error)")
            return
        }
    }

    @Test func misShapedTensorIsNamed() throws {
        let key = "positional_embedding"
        let file = try WeightsFileEditor.editedCopy(of: fixture.bundle.tensors, .reshape(key, to: [76, 16]))
        let error = try #require(throws: CLIPError.self) { try load(file) }
        guard case .weights(.shapeMismatch(key, expected: [77, 16], found: [76, 16])) = error else {
            Issue.record("expected a shape error for \(key), got \(error)")
            return
        }
        #expect("\(error)".contains(key))
    }
}

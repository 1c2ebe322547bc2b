import CLIP
import Testing

@Suite struct VisionConfigWorkTests {
    let vision = BundleConfig.vitB16Plus240.vision
    let embedDim = BundleConfig.vitB16Plus240.embedDim

    @Test func countsTheForwardOfViTB16Plus240() {
        // 2·(225·768·896 + 12·226·896·(2688 + 896 + 2·3584) + 12·14·2·226·226·64 + 896·640)
        #expect(vision.forwardFLOPs(embedDim: embedDim) == 54_761_168_896)
    }

    @Test func listsTheLinearLayersAtTheTokenCount() {
        let linear = vision.matmuls(embedDim: embedDim).filter { $0.isLinear && $0.rows > 1 }
        #expect(linear.map(\.name) == ["patch embed", "qkv", "out proj", "fc1", "fc2"])
        #expect(linear.map(\.rows) == [225, 226, 226, 226, 226])
        #expect(linear.map(\.inner) == [768, 896, 896, 896, 3584])
        #expect(linear.map(\.columns) == [896, 2688, 896, 3584, 896])
        #expect(linear.map(\.count) == [1, 12, 12, 12, 12])
        #expect(linear.map(\.hasBias) == [false, true, true, true, true])
    }

    @Test func listsQueryKeyValueApartWithTheSameWork() {
        let fused = vision.matmuls(embedDim: embedDim)
        let apart = vision.matmuls(embedDim: embedDim, separateQueryKeyValue: true)
        #expect(apart.map(\.name) == ["patch embed", "q, k, v", "q·kᵀ", "attention·v", "out proj", "fc1", "fc2", "proj"])
        #expect(apart[1].columns == 896 && apart[1].count == 36 && apart[1].hasBias)
        #expect(apart.reduce(0) { $0 + $1.flops } == fused.reduce(0) { $0 + $1.flops })
    }
}

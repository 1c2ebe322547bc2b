import Testing
@testable import Tensor

@Suite struct ComputeEngineTests {
    @Test func cacheEvictsTheLeastRecentlyUsedPrimitives() throws {
        let engine = try ComputeEngine()
        let hot = try Tensor(shape: [1, 3], scalars: [-1, 0, 2])
        let hotResult = try engine.gelu(hot)
        for width in 1...(ComputeEngine.primitiveCapacity + 20) {
            let input = Tensor(zeros: [2, width + 3])
            #expect(try engine.gelu(input) == input)
            // Kept in use, the first primitive survives every eviction.
            #expect(try engine.gelu(hot) == hotResult)
        }
        let kernels = engine.preparedKernels
        #expect(kernels.count == ComputeEngine.primitiveCapacity)
        #expect(kernels.contains { $0.hasPrefix("gelu [1, 3]") })
        #expect(!kernels.contains { $0.hasPrefix("gelu [2, 4]:") })
    }
}

import Testing
import Tensor

@Suite struct MatmulRateTests {
    @Test(arguments: WeightPrecision.allCases)
    func timesEachExecution(precision: WeightPrecision) throws {
        guard precision == .fp32 || ComputeEngine.multipliesBF16Natively else { return }
        let engine = try ComputeEngine()
        let seconds = try engine.timeLinear(
            rows: 9, inFeatures: 32, outFeatures: 48, hasBias: true, precision: precision, iterations: 4, warmup: 1)
        #expect(seconds.count == 4)
        #expect(seconds.allSatisfy { $0 > 0 })
    }
}

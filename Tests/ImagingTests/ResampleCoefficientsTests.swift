import Testing
@testable import Imaging

@Suite("ResampleCoefficients")
struct ResampleCoefficientsTests {
    @Test("a window's coefficients equal the same positions of the full set", arguments: [(300, 240), (240, 3200), (1024, 320), (7, 240)])
    func windowEqualsFullComputation(_ sizes: (input: Int, output: Int)) {
        let full = ResampleCoefficients(inputSize: sizes.input, outputSize: sizes.output, window: 0..<sizes.output)
        let window = (sizes.output / 3)..<(sizes.output / 3 + min(100, sizes.output / 2))
        let partial = ResampleCoefficients(inputSize: sizes.input, outputSize: sizes.output, window: window)
        let taps = full.tapsPerOutput
        #expect(partial.tapsPerOutput == taps)
        for (slot, position) in window.enumerated() {
            #expect(partial.firstSource[slot] == full.firstSource[position])
            #expect(partial.sourceCount[slot] == full.sourceCount[position])
            #expect(Array(partial.weights[(slot * taps)..<((slot + 1) * taps)]) == Array(full.weights[(position * taps)..<((position + 1) * taps)]))
        }
    }

    @Test("fixed-point weights of every position sum to one within rounding")
    func weightsAreNormalised() {
        let coefficients = ResampleCoefficients(inputSize: 1024, outputSize: 320, window: 0..<320)
        let one = 1 << ResampleCoefficients.precisionBits
        for slot in 0..<320 {
            let row = coefficients.weights[(slot * coefficients.tapsPerOutput)..<((slot + 1) * coefficients.tapsPerOutput)]
            let total = row.reduce(0) { $0 + Int($1) }
            #expect(abs(total - one) <= coefficients.tapsPerOutput)
        }
    }

    @Test("the support widens with the downscaling factor (antialiasing) but not when upscaling")
    func supportFollowsScale() {
        #expect(ResampleCoefficients(inputSize: 100, outputSize: 240, window: 0..<1).tapsPerOutput == 5)
        #expect(ResampleCoefficients(inputSize: 1024, outputSize: 320, window: 0..<1).tapsPerOutput == 2 * 7 + 1)
    }
}

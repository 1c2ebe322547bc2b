/// Pillow's bicubic filter weights for one axis (libImaging/Resample.c, `precompute_coeffs`
/// followed by `normalize_coeffs_8bpc`), computed only for a window of output positions.
///
/// The double-precision arithmetic is written in exactly Pillow's order so that every weight
/// rounds to the same 22-bit fixed-point integer.
struct ResampleCoefficients {
    /// Fractional bits of the fixed-point weights: 32 − 8 (sample) − 2 (headroom).
    static let precisionBits: Int32 = 22

    /// The most taps any output position uses; `weights` holds this many per position.
    let tapsPerOutput: Int
    /// For each output position of the window: the first source index it reads.
    let firstSource: [Int]
    /// For each output position of the window: how many source samples it reads.
    let sourceCount: [Int]
    /// `tapsPerOutput` fixed-point weights per output position (unused taps are zero).
    let weights: [Int32]

    /// - Parameters:
    ///   - inputSize: source extent along this axis.
    ///   - outputSize: the full resized extent (not the window's).
    ///   - window: the output positions to compute.
    init(inputSize: Int, outputSize: Int, window: Range<Int>) {
        // Pillow passes the box edges as C floats; the width is exact below 2^24 and rounded
        // as Pillow rounds it above.
        let scale = Double(Float(inputSize)) / Double(outputSize)
        let filterScale = max(scale, 1.0)
        let support = Self.bicubicSupport * filterScale
        let taps = Int(support.rounded(.up)) * 2 + 1
        let inverseFilterScale = 1.0 / filterScale

        var firstSource = [Int]()
        var sourceCount = [Int]()
        var weights = [Int32](repeating: 0, count: window.count * taps)
        firstSource.reserveCapacity(window.count)
        sourceCount.reserveCapacity(window.count)
        var kernel = [Double](repeating: 0, count: taps)

        for (slot, position) in window.enumerated() {
            let center = (Double(position) + 0.5) * scale
            // C's (int) cast truncates toward zero, as Swift's Int(_: Double) does.
            let first = max(Int(center - support + 0.5), 0)
            let count = min(Int(center + support + 0.5), inputSize) - first
            var total = 0.0
            for tap in 0..<count {
                let weight = Self.bicubic((Double(tap + first) - center + 0.5) * inverseFilterScale)
                kernel[tap] = weight
                total += weight
            }
            let fixedOne = Double(1 << Self.precisionBits)
            for tap in 0..<count {
                let normalised = total != 0 ? kernel[tap] / total : kernel[tap]
                weights[slot * taps + tap] = normalised < 0
                    ? Int32(-0.5 + normalised * fixedOne)
                    : Int32(0.5 + normalised * fixedOne)
            }
            firstSource.append(first)
            sourceCount.append(count)
        }
        self.tapsPerOutput = taps
        self.firstSource = firstSource
        self.sourceCount = sourceCount
        self.weights = weights
    }

    private static let bicubicSupport = 2.0

    /// Keys' cubic convolution kernel with a = −0.5, as Pillow evaluates it.
    private static func bicubic(_ signed: Double) -> Double {
        let a = -0.5
        let x = signed < 0 ? -signed : signed
        if x < 1.0 {
            return ((a + 2.0) * x - (a + 3.0)) * x * x + 1
        }
        if x < 2.0 {
            return (((x - 5) * x + 8) * x - 4) * a
        }
        return 0.0
    }
}

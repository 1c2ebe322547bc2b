#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One axis of an `AnomalyField`: which original pixels along it the model's crop saw, and
/// how much each grid line (row or column of the residual map) contributes to each of them.
///
/// Bilinear interpolation is a sum of grid values times one "hat" weight per axis, and a
/// Gaussian renormalised inside a rectangle is the product of two 1-D Gaussians each
/// renormalised along its own axis. So smoothing the hats along each axis, once, and summing
/// `value × rowWeight × columnWeight` gives the smoothed field exactly, for a few 1-D
/// convolutions of `gridSize` weights instead of a 2-D one over every pixel.
struct FieldAxis {
    /// The original pixels whose centres fall inside the crop window.
    let dataRange: Range<Int>
    /// Grid lines along this axis.
    let gridSize: Int
    /// `weights[(pixel − dataRange.lowerBound) × gridSize + line]`; each pixel's weights sum to 1.
    let weights: [Float]

    /// The axis of an image `originalLength` pixels long that the model saw resized to
    /// `resizedLength` and cropped to `cropSize` from `cropOffset`, smoothed with a Gaussian of
    /// `sigma` original pixels truncated at 4 sigma (0 leaves the bilinear weights as they are).
    init(originalLength: Int, resizedLength: Int, cropOffset: Int, cropSize: Int, gridSize: Int, sigma: Double) {
        dataRange = Self.pixelsInside(cropOffset..<(cropOffset + cropSize), originalLength: originalLength, resizedLength: resizedLength)
        self.gridSize = gridSize
        let hats = Self.bilinearHats(
            dataRange, originalLength: originalLength, resizedLength: resizedLength,
            cropOffset: cropOffset, cropSize: cropSize, gridSize: gridSize)
        weights = Self.smoothed(hats, gridSize: gridSize, sigma: sigma).map(Float.init)
    }

    /// The pixels whose centre `x + 0.5` lands, once scaled by `resized / original`, inside
    /// `window` of the resized axis: `2·lower·L ≤ (2x + 1)·R < 2·upper·L`, decided in integers
    /// so a centre exactly on the window's edge is never decided by rounding.
    private static func pixelsInside(_ window: Range<Int>, originalLength: Int, resizedLength: Int) -> Range<Int> {
        func firstPixel(atOrBeyond edge: Int) -> Int {
            let numerator = 2 * edge * originalLength - resizedLength
            let denominator = 2 * resizedLength
            return numerator <= 0 ? 0 : min(originalLength, (numerator + denominator - 1) / denominator)
        }
        return firstPixel(atOrBeyond: window.lowerBound)..<firstPixel(atOrBeyond: window.upperBound)
    }

    /// Per data pixel, the two grid lines around it and the weight of the second one. Line `j`
    /// is centred at crop coordinate `pitch·(j + 0.5) − 0.5` (16j + 7.5 for 16-pixel patches),
    /// the centre of its patch; beyond the first and last centres the edge line alone applies.
    private static func bilinearHats(
        _ dataRange: Range<Int>, originalLength: Int, resizedLength: Int,
        cropOffset: Int, cropSize: Int, gridSize: Int
    ) -> [(line: Int, next: Double)] {
        let scale = Double(resizedLength) / Double(originalLength)
        let pitch = Double(cropSize) / Double(gridSize)
        let lastLine = Double(gridSize - 1)
        return dataRange.map { pixel in
            let crop = (Double(pixel) + 0.5) * scale - 0.5 - Double(cropOffset)
            let position = min(max((crop + 0.5) / pitch - 0.5, 0), lastLine)
            let line = min(Int(position), max(gridSize - 2, 0))
            return (line, position - Double(line))
        }
    }

    /// The hats convolved with a Gaussian over the data pixels only, each pixel divided by the
    /// kernel weight that fell inside, so values near the crop's edges are not pulled towards 0.
    private static func smoothed(_ hats: [(line: Int, next: Double)], gridSize: Int, sigma: Double) -> [Double] {
        let count = hats.count
        var weights = [Double](repeating: 0, count: count * gridSize)
        let radius = sigma > 0 ? min(count, Int((4 * sigma).rounded(.up))) : 0
        let kernel = sigma > 0 ? (0...radius).map { distance in exp(-Double(distance * distance) / (2 * sigma * sigma)) } : [1]
        for pixel in 0..<count {
            let row = pixel * gridSize
            var total = 0.0
            for neighbour in max(0, pixel - radius)...min(count - 1, pixel + radius) {
                let weight = kernel[abs(neighbour - pixel)]
                let hat = hats[neighbour]
                total += weight
                weights[row + hat.line] += weight * (1 - hat.next)
                if hat.next > 0 {
                    weights[row + hat.line + 1] += weight * hat.next
                }
            }
            for line in 0..<gridSize {
                weights[row + line] /= total
            }
        }
        return weights
    }
}

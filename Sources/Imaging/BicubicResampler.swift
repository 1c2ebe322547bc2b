/// Pillow's 8-bit separable bicubic resize (libImaging/Resample.c, `ImagingResampleInner`
/// with `_ImagingResample{Horizontal,Vertical}_8bpc`), evaluated only inside the crop window.
///
/// Each pass rounds and clamps to 8 bits, so the pass order changes the result. The model
/// specification's pre-processing (§2, step 2: "horizontal pass then vertical … skip a pass
/// whose size does not change") fixes it; that is what Pillow up to 12.3 always does, and
/// what InCTRL's released weights were trained on. Pillow 13 differs for tall images: it runs
/// the vertical pass first when the height loses more than twice as many pixels as the width,
/// so its bytes are not the reference there. The horizontal pass covers only the rows the
/// vertical pass will read. Integer sums are exact, so accumulating rows in a different order
/// than Pillow (to let the vertical pass vectorise) gives the same bytes.
enum BicubicResampler {
    static func resizeAndCrop(_ source: PixelPlane, plan: CropPlan) -> PixelPlane {
        let needsHorizontal = plan.resizedWidth != source.width
        let needsVertical = plan.resizedHeight != source.height
        let columns = plan.left..<(plan.left + plan.size)
        let rows = plan.top..<(plan.top + plan.size)

        switch (needsHorizontal, needsVertical) {
        case (false, false):
            return source.cropped(left: plan.left, top: plan.top, size: plan.size)
        case (true, false):
            let horizontal = ResampleCoefficients(inputSize: source.width, outputSize: plan.resizedWidth, window: columns)
            return horizontalPass(source, rows: rows, coefficients: horizontal)
        case (false, true):
            let vertical = ResampleCoefficients(inputSize: source.height, outputSize: plan.resizedHeight, window: rows)
            return verticalPass(source, columns: columns, coefficients: vertical, rowOffset: 0)
        case (true, true):
            let horizontal = ResampleCoefficients(inputSize: source.width, outputSize: plan.resizedWidth, window: columns)
            let vertical = ResampleCoefficients(inputSize: source.height, outputSize: plan.resizedHeight, window: rows)
            let firstRow = vertical.firstSource.first!
            let lastRow = vertical.firstSource.last! + vertical.sourceCount.last!
            let intermediate = horizontalPass(source, rows: firstRow..<lastRow, coefficients: horizontal)
            return verticalPass(intermediate, columns: 0..<plan.size, coefficients: vertical, rowOffset: firstRow)
        }
    }

    /// Resamples `rows` of `source` along x; the result has one column per coefficient slot.
    private static func horizontalPass(
        _ source: PixelPlane, rows: Range<Int>, coefficients: ResampleCoefficients
    ) -> PixelPlane {
        switch source.channels {
        case 1: horizontalPass(source, rows: rows, coefficients: coefficients, layout: OneChannel.self)
        case 2: horizontalPass(source, rows: rows, coefficients: coefficients, layout: TwoChannels.self)
        case 3: horizontalPass(source, rows: rows, coefficients: coefficients, layout: ThreeChannels.self)
        default: horizontalPass(source, rows: rows, coefficients: coefficients, layout: FourChannels.self)
        }
    }

    private static func horizontalPass<Layout: ChannelLayout>(
        _ source: PixelPlane, rows: Range<Int>, coefficients: ResampleCoefficients, layout _: Layout.Type
    ) -> PixelPlane {
        let channels = Layout.count
        let outputWidth = coefficients.firstSource.count
        let outputRowLength = outputWidth * channels
        let sourceRowLength = source.width * channels
        let taps = coefficients.tapsPerOutput
        let output = [UInt8](unsafeUninitializedCapacity: rows.count * outputRowLength) { output, initialized in
            source.samples.withUnsafeBufferPointer { input in
            coefficients.weights.withUnsafeBufferPointer { weights in
            coefficients.firstSource.withUnsafeBufferPointer { firstSource in
            coefficients.sourceCount.withUnsafeBufferPointer { sourceCount in
                let inputBase = input.baseAddress!
                let outputBase = output.baseAddress!
                let weightBase = weights.baseAddress!
                for (outputRow, sourceRow) in rows.enumerated() {
                    let line = inputBase + sourceRow * sourceRowLength
                    let destination = outputBase + outputRow * outputRowLength
                    for column in 0..<outputWidth {
                        Layout.convolve(
                            line + firstSource[column] * channels,
                            taps: sourceCount[column],
                            kernel: weightBase + column * taps,
                            into: destination + column * channels
                        )
                    }
                }
            }
            }
            }
            }
            initialized = rows.count * outputRowLength
        }
        return PixelPlane(width: outputWidth, height: rows.count, channels: channels, samples: output)
    }

    /// Resamples `source` along y for every coefficient slot, reading only `columns`.
    /// `rowOffset` is the source row that `source`'s first row stands for.
    private static func verticalPass(
        _ source: PixelPlane, columns: Range<Int>, coefficients: ResampleCoefficients, rowOffset: Int
    ) -> PixelPlane {
        let channels = source.channels
        let outputHeight = coefficients.firstSource.count
        let rowLength = columns.count * channels
        let sourceRowLength = source.width * channels
        let taps = coefficients.tapsPerOutput
        var sums = [Int32](repeating: 0, count: rowLength)
        let output = [UInt8](unsafeUninitializedCapacity: outputHeight * rowLength) { output, initialized in
            source.samples.withUnsafeBufferPointer { input in
            sums.withUnsafeMutableBufferPointer { sums in
                let sumBase = sums.baseAddress!
                let inputBase = input.baseAddress! + columns.lowerBound * channels
                for outputRow in 0..<outputHeight {
                    sumBase.update(repeating: rounding, count: rowLength)
                    let first = coefficients.firstSource[outputRow] - rowOffset
                    for tap in 0..<coefficients.sourceCount[outputRow] {
                        let weight = coefficients.weights[outputRow * taps + tap]
                        let line = inputBase + (first + tap) * sourceRowLength
                        for index in 0..<rowLength {
                            sumBase[index] &+= Int32(line[index]) &* weight
                        }
                    }
                    let destination = output.baseAddress! + outputRow * rowLength
                    for index in 0..<rowLength {
                        destination[index] = clip8(sumBase[index])
                    }
                }
            }
            }
            initialized = outputHeight * rowLength
        }
        return PixelPlane(width: columns.count, height: outputHeight, channels: channels, samples: output)
    }

    /// Half a unit in the last place of the fixed-point sum, so the shift rounds to nearest.
    fileprivate static let rounding: Int32 = 1 << (ResampleCoefficients.precisionBits - 1)

    /// Pillow's `clip8`: drop the fraction bits (floor) and clamp to 0...255.
    @inline(__always)
    fileprivate static func clip8(_ sum: Int32) -> UInt8 {
        UInt8(clamping: sum >> ResampleCoefficients.precisionBits)
    }
}

/// The number of interleaved channels, as a type, so each horizontal convolution runs with
/// one scalar accumulator per channel, as Pillow's loops do.
private protocol ChannelLayout {
    static var count: Int { get }
    /// Convolves `taps` pixels starting at `pixel` with `kernel` and stores the clipped result.
    static func convolve(_ pixel: UnsafePointer<UInt8>, taps: Int, kernel: UnsafePointer<Int32>, into output: UnsafeMutablePointer<UInt8>)
}

private enum OneChannel: ChannelLayout {
    static var count: Int { 1 }
    @inline(__always)
    static func convolve(_ pixel: UnsafePointer<UInt8>, taps: Int, kernel: UnsafePointer<Int32>, into output: UnsafeMutablePointer<UInt8>) {
        var sum = BicubicResampler.rounding
        for tap in 0..<taps {
            sum &+= Int32(pixel[tap]) &* kernel[tap]
        }
        output[0] = BicubicResampler.clip8(sum)
    }
}

private enum TwoChannels: ChannelLayout {
    static var count: Int { 2 }
    @inline(__always)
    static func convolve(_ pixel: UnsafePointer<UInt8>, taps: Int, kernel: UnsafePointer<Int32>, into output: UnsafeMutablePointer<UInt8>) {
        var first = BicubicResampler.rounding
        var second = BicubicResampler.rounding
        for tap in 0..<taps {
            let weight = kernel[tap]
            first &+= Int32(pixel[2 * tap]) &* weight
            second &+= Int32(pixel[2 * tap + 1]) &* weight
        }
        output[0] = BicubicResampler.clip8(first)
        output[1] = BicubicResampler.clip8(second)
    }
}

private enum ThreeChannels: ChannelLayout {
    static var count: Int { 3 }
    @inline(__always)
    static func convolve(_ pixel: UnsafePointer<UInt8>, taps: Int, kernel: UnsafePointer<Int32>, into output: UnsafeMutablePointer<UInt8>) {
        var red = BicubicResampler.rounding
        var green = BicubicResampler.rounding
        var blue = BicubicResampler.rounding
        for tap in 0..<taps {
            let weight = kernel[tap]
            red &+= Int32(pixel[3 * tap]) &* weight
            green &+= Int32(pixel[3 * tap + 1]) &* weight
            blue &+= Int32(pixel[3 * tap + 2]) &* weight
        }
        output[0] = BicubicResampler.clip8(red)
        output[1] = BicubicResampler.clip8(green)
        output[2] = BicubicResampler.clip8(blue)
    }
}

private enum FourChannels: ChannelLayout {
    static var count: Int { 4 }
    @inline(__always)
    static func convolve(_ pixel: UnsafePointer<UInt8>, taps: Int, kernel: UnsafePointer<Int32>, into output: UnsafeMutablePointer<UInt8>) {
        var first = BicubicResampler.rounding
        var second = BicubicResampler.rounding
        var third = BicubicResampler.rounding
        var fourth = BicubicResampler.rounding
        for tap in 0..<taps {
            let weight = kernel[tap]
            first &+= Int32(pixel[4 * tap]) &* weight
            second &+= Int32(pixel[4 * tap + 1]) &* weight
            third &+= Int32(pixel[4 * tap + 2]) &* weight
            fourth &+= Int32(pixel[4 * tap + 3]) &* weight
        }
        output[0] = BicubicResampler.clip8(first)
        output[1] = BicubicResampler.clip8(second)
        output[2] = BicubicResampler.clip8(third)
        output[3] = BicubicResampler.clip8(fourth)
    }
}

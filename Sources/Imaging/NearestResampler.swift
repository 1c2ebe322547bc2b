/// Pillow's nearest-neighbour resize, which it uses for palette (`P`) and bilevel (`1`)
/// images whatever filter is asked for (libImaging/Geometry.c, `ImagingScaleAffine`),
/// evaluated only inside the crop window.
enum NearestResampler {
    static func resizeAndCrop(_ source: PixelPlane, plan: CropPlan) -> PixelPlane {
        guard plan.resizes(width: source.width, height: source.height) else {
            return source.cropped(left: plan.left, top: plan.top, size: plan.size)
        }
        let columns = sourceIndices(inputSize: source.width, outputSize: plan.resizedWidth, window: plan.left..<(plan.left + plan.size))
        let rows = sourceIndices(inputSize: source.height, outputSize: plan.resizedHeight, window: plan.top..<(plan.top + plan.size))
        let channels = source.channels
        let size = plan.size
        let output = [UInt8](unsafeUninitializedCapacity: size * size * channels) { output, initialized in
            source.samples.withUnsafeBufferPointer { input in
                for (outputRow, sourceRow) in rows.enumerated() {
                    let line = sourceRow * source.width * channels
                    for (outputColumn, sourceColumn) in columns.enumerated() {
                        for channel in 0..<channels {
                            output[(outputRow * size + outputColumn) * channels + channel] =
                                input[line + sourceColumn * channels + channel]
                        }
                    }
                }
            }
            initialized = size * size * channels
        }
        return PixelPlane(width: size, height: size, channels: channels, samples: output)
    }

    /// The source index each output position of `window` copies.
    ///
    /// Pillow walks the positions from 0, adding the step in double precision each time; the
    /// accumulated rounding decides ties, so the walk is replayed exactly. Beyond 2^24
    /// positions (far past anything Pillow itself can allocate) the closed form is used.
    static func sourceIndices(inputSize: Int, outputSize: Int, window: Range<Int>) -> [Int] {
        let step = Double(Float(inputSize)) / Double(outputSize)
        func index(at position: Double) -> Int {
            // Geometry.c COORD(): negative coordinates fall outside; clamp like an edge pixel.
            min(max(position < 0 ? 0 : Int(position), 0), inputSize - 1)
        }
        guard window.lowerBound <= 1 << 24 else {
            return window.map { index(at: step * 0.5 + step * Double($0)) }
        }
        var indices = [Int]()
        indices.reserveCapacity(window.count)
        var position = step * 0.5
        for outputPosition in 0..<window.upperBound {
            if outputPosition >= window.lowerBound {
                indices.append(index(at: position))
            }
            position += step
        }
        return indices
    }
}

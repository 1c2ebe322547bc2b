/// An 8-bit interleaved image: the working representation between decoding and RGB output.
struct PixelPlane {
    var width: Int
    var height: Int
    var channels: Int
    /// Row-major, `channels` samples per pixel, no row padding.
    var samples: [UInt8]

    /// The `size`×`size` window at (`left`, `top`), copied out.
    func cropped(left: Int, top: Int, size: Int) -> PixelPlane {
        let rowLength = size * channels
        let cropped = [UInt8](unsafeUninitializedCapacity: size * rowLength) { output, initialized in
            samples.withUnsafeBufferPointer { input in
                for row in 0..<size {
                    let sourceStart = ((top + row) * width + left) * channels
                    let destination = UnsafeMutableBufferPointer(rebasing: output[(row * rowLength)...])
                    _ = destination.initialize(from: input[sourceStart..<(sourceStart + rowLength)])
                }
            }
            initialized = size * rowLength
        }
        return PixelPlane(width: size, height: size, channels: channels, samples: cropped)
    }
}

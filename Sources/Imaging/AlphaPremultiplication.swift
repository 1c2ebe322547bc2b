/// Pillow resizes `LA` and `RGBA` images with premultiplied alpha (`La`, `RGBa`) and converts
/// back afterwards (Image.resize); these are its exact integer conversions
/// (libImaging/Convert.c `lA2la`/`rgbA2rgba` and `la2lA`/`rgba2rgbA`).
enum AlphaPremultiplication {
    /// Multiplies the colour channels by alpha/255 with Pillow's rounded MULDIV255. The last
    /// channel of `plane` is alpha.
    static func premultiply(_ plane: inout PixelPlane) {
        let channels = plane.channels
        plane.samples.withUnsafeMutableBufferPointer { samples in
            var pixel = 0
            while pixel < samples.count {
                let alpha = UInt32(samples[pixel + channels - 1])
                for channel in 0..<(channels - 1) {
                    samples[pixel + channel] = multiplyDividing255(UInt32(samples[pixel + channel]), alpha)
                }
                pixel += channels
            }
        }
    }

    /// Divides the colour channels by alpha/255 (integer division, clamped), leaving pixels
    /// with alpha 0 or 255 untouched.
    static func unpremultiply(_ plane: inout PixelPlane) {
        let channels = plane.channels
        plane.samples.withUnsafeMutableBufferPointer { samples in
            var pixel = 0
            while pixel < samples.count {
                let alpha = UInt32(samples[pixel + channels - 1])
                if alpha != 0 && alpha != 255 {
                    for channel in 0..<(channels - 1) {
                        samples[pixel + channel] = UInt8(min(255 * UInt32(samples[pixel + channel]) / alpha, 255))
                    }
                }
                pixel += channels
            }
        }
    }

    /// ImagingUtils.h MULDIV255: a·b/255 rounded, without a division.
    @inline(__always)
    static func multiplyDividing255(_ a: UInt32, _ b: UInt32) -> UInt8 {
        let product = a * b + 128
        return UInt8(truncatingIfNeeded: ((product >> 8) + product) >> 8)
    }
}

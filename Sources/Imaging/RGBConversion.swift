/// Pillow's `convert('RGB')` for each mode that reaches it after the crop
/// (libImaging/Convert.c): grey replicated, palette looked up, alpha dropped, CMYK inked.
enum RGBConversion {
    /// Interleaved RGB bytes for `plane`, whose samples are laid out as `mode` says.
    static func rgb(from plane: PixelPlane, mode: PixelMode, palette: [UInt8]) -> [UInt8] {
        let pixelCount = plane.width * plane.height
        let channels = plane.channels
        return [UInt8](unsafeUninitializedCapacity: pixelCount * 3) { output, initialized in
            plane.samples.withUnsafeBufferPointer { input in
                for pixel in 0..<pixelCount {
                    let source = pixel * channels
                    let red: UInt8, green: UInt8, blue: UInt8
                    switch mode {
                    case .gray, .gray16, .grayAlpha:
                        // l2rgb / la2rgb: the grey sample three times.
                        (red, green, blue) = (input[source], input[source], input[source])
                    case .bilevel:
                        // bit2rgb: any non-zero sample is white.
                        let value: UInt8 = input[source] == 0 ? 0 : 255
                        (red, green, blue) = (value, value, value)
                    case .palette:
                        let entry = Int(input[source]) * 3
                        (red, green, blue) = (palette[entry], palette[entry + 1], palette[entry + 2])
                    case .rgb, .rgba:
                        (red, green, blue) = (input[source], input[source + 1], input[source + 2])
                    case .cmyk:
                        (red, green, blue) = cmykToRGB(input[source], input[source + 1], input[source + 2], input[source + 3])
                    }
                    output[pixel * 3] = red
                    output[pixel * 3 + 1] = green
                    output[pixel * 3 + 2] = blue
                }
            }
            initialized = pixelCount * 3
        }
    }

    /// cmyk2rgb: each ink darkens its colour within what black leaves.
    @inline(__always)
    private static func cmykToRGB(_ cyan: UInt8, _ magenta: UInt8, _ yellow: UInt8, _ black: UInt8) -> (UInt8, UInt8, UInt8) {
        let notBlack = 255 - UInt32(black)
        func channel(_ ink: UInt8) -> UInt8 {
            UInt8(clamping: notBlack - UInt32(AlphaPremultiplication.multiplyDividing255(UInt32(ink), notBlack)))
        }
        return (channel(cyan), channel(magenta), channel(yellow))
    }
}

extension DecodedImage {
    /// The whole image in 8-bit RGB at its own size, converted as Pillow's `convert('RGB')`
    /// would (grey replicated, palette looked up, alpha dropped, CMYK inked): the picture a
    /// heat-map is drawn over, so an operator sees the part exactly as it was sent.
    public func rgb8() -> RGB8Image {
        let plane = PixelPlane(width: width, height: height, channels: mode.channels, samples: eightBitSamples)
        let rgb = RGBConversion.rgb(from: plane, mode: mode, palette: palette)
        return RGB8Image(validatedWidth: width, height: height, pixels: rgb)
    }

    /// The samples at 8 bits: 16-bit grey is scaled by round(v / 257) (v / 257 is never
    /// exactly half-way, so adding 128 before the integer division rounds it) rather than
    /// clipped at 255 as Pillow would, which would turn almost every medical scan white.
    var eightBitSamples: [UInt8] {
        switch samples {
        case .uint8(let bytes):
            return bytes
        case .uint16(let words):
            return words.map { UInt8(truncatingIfNeeded: (UInt32($0) + 128) / 257) }
        }
    }
}

/// An 8-bit RGB image, interleaved and row-major: the pre-processed picture before
/// normalisation, byte-identical to what Pillow produces for the reference pipeline.
public struct RGB8Image: Sendable, Equatable {
    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    /// `width × height × 3` bytes, R G B per pixel, rows top to bottom.
    public let pixels: [UInt8]

    /// An image over `pixels`; `nil` when the count does not match the dimensions.
    public init?(width: Int, height: Int, pixels: [UInt8]) {
        guard width > 0, height > 0, pixels.count == width * height * 3 else { return nil }
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    init(validatedWidth width: Int, height: Int, pixels: [UInt8]) {
        self.width = width
        self.height = height
        self.pixels = pixels
    }
}

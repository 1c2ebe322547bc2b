/// An 8-bit single-channel image, row-major: what a binary anomaly mask (0 or 255 per pixel)
/// is handed to the PNG encoder as.
public struct Gray8Image: Sendable, Equatable {
    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    /// `width × height` bytes, rows top to bottom.
    public let pixels: [UInt8]

    /// An image over `pixels`; `nil` when the count does not match the dimensions.
    public init?(width: Int, height: Int, pixels: [UInt8]) {
        guard width > 0, height > 0, pixels.count == width * height else { return nil }
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

/// One connected area of an `AnomalyField` above the threshold: what an operator's viewer
/// draws a box around and what a line-side system counts and sizes.
public struct AnomalyRegion: Sendable, Equatable {
    /// The smallest rectangle holding every pixel of the region, in original pixel coordinates.
    public let boundingBox: PixelRect
    /// Pixels in the region (not its bounding box).
    public let pixelCount: Int
    /// `pixelCount` over the pixels of the whole image, so sizes compare across resolutions.
    public let areaFraction: Double
    /// The largest field value inside the region.
    public let peak: Float

    /// A region as found in a field.
    public init(boundingBox: PixelRect, pixelCount: Int, areaFraction: Double, peak: Float) {
        self.boundingBox = boundingBox
        self.pixelCount = pixelCount
        self.areaFraction = areaFraction
        self.peak = peak
    }
}

/// One connected region of the heat-map above the set's pixel threshold, in the original
/// image's pixel coordinates.
public struct AnomalyRegionBody: Encodable, Sendable, Equatable {
    /// The bounding box: left, top, width and height in pixels.
    public let x: Int
    public let y: Int
    public let width: Int
    public let height: Int
    /// The region's pixels as a fraction of the whole image.
    public let areaFraction: Double
    /// The largest residual inside it.
    public let peak: Float

    enum CodingKeys: String, CodingKey {
        case x, y, width, height, peak
        case areaFraction = "area_fraction"
    }

    public init(x: Int, y: Int, width: Int, height: Int, areaFraction: Double, peak: Float) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
        self.areaFraction = areaFraction
        self.peak = peak
    }
}

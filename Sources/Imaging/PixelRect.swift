/// A rectangle of whole pixels in an image's own coordinates (x to the right, y down, origin
/// at the top-left pixel): where a heat-map carries data, or where an anomalous region lies,
/// in the terms an operator's viewer draws boxes in.
public struct PixelRect: Sendable, Hashable {
    /// The leftmost column.
    public let x: Int
    /// The topmost row.
    public let y: Int
    /// Columns covered.
    public let width: Int
    /// Rows covered.
    public let height: Int

    /// The rectangle whose top-left pixel is (`x`, `y`).
    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    /// The columns covered, for iterating over the rectangle.
    public var columns: Range<Int> { x..<(x + width) }
    /// The rows covered, for iterating over the rectangle.
    public var rows: Range<Int> { y..<(y + height) }

    /// Whether pixel (`x`, `y`) lies inside.
    public func contains(x: Int, y: Int) -> Bool {
        columns.contains(x) && rows.contains(y)
    }
}

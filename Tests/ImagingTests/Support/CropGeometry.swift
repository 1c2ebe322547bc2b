import Testing

/// torchvision's `Resize(240)` + `CenterCrop(240)` for one image size, worked out by hand
/// rather than by `CropPlan`, so heat-map tests check the inverse mapping against arithmetic
/// the code under test did not do.
struct CropGeometry: Sendable, CustomTestStringConvertible {
    let width: Int
    let height: Int
    let resizedWidth: Int
    let resizedHeight: Int
    let left: Int
    let top: Int

    var testDescription: String { "\(width)×\(height)" }

    static let examples = [
        CropGeometry(width: 300, height: 300, resizedWidth: 240, resizedHeight: 240, left: 0, top: 0),
        // Already 240 high: no resize, the crop keeps columns 120..<360.
        CropGeometry(width: 480, height: 240, resizedWidth: 480, resizedHeight: 240, left: 120, top: 0),
        // int(240 · 640 / 360) = int(426.67) = 426; round((426 − 240) / 2) = 93.
        CropGeometry(width: 640, height: 360, resizedWidth: 426, resizedHeight: 240, left: 93, top: 0),
        CropGeometry(width: 240, height: 480, resizedWidth: 240, resizedHeight: 480, left: 0, top: 120),
    ]

    /// The original columns whose centres land in crop columns `cropColumns` (edges, in
    /// crop pixels): `(x + 0.5) · resized / original − left` inside the range.
    func originalColumns(_ cropColumns: Range<Int>) -> Range<Int> {
        Self.originalPixels(cropColumns, original: width, resized: resizedWidth, offset: left)
    }

    /// The original rows whose centres land in crop rows `cropRows`.
    func originalRows(_ cropRows: Range<Int>) -> Range<Int> {
        Self.originalPixels(cropRows, original: height, resized: resizedHeight, offset: top)
    }

    /// The original pixels inside the whole 240 × 240 crop.
    var dataRegion: (columns: Range<Int>, rows: Range<Int>) {
        (originalColumns(0..<240), originalRows(0..<240))
    }

    private static func originalPixels(_ crop: Range<Int>, original: Int, resized: Int, offset: Int) -> Range<Int> {
        let scale = Double(original) / Double(resized)
        let first = Int((Double(offset + crop.lowerBound) * scale - 0.5).rounded(.up))
        let end = Int((Double(offset + crop.upperBound) * scale - 0.5).rounded(.up))
        return max(first, 0)..<min(end, original)
    }
}

import Imaging
import InCTRL

/// What an operator sees of one scored image: the connected regions above the set's pixel
/// threshold (with their area), and on request the heat-map and the region mask as PNG, all
/// in the original image's pixel coordinates.
public struct ScorePictures: Sendable {
    /// Which pictures a request asked for (`include=heatmap,mask`, or `Accept: image/png`).
    public struct Include: OptionSet, Sendable {
        public let rawValue: Int
        public static let heatmap = Include(rawValue: 1)
        public static let mask = Include(rawValue: 2)

        /// The `include` query parameter: a comma-separated list of `heatmap` and `mask`.
        init(parameter: String?) throws(APIError) {
            self = []
            guard let parameter else { return }
            for item in parameter.split(separator: ",", omittingEmptySubsequences: false) {
                switch item {
                case "heatmap": insert(.heatmap)
                case "mask": insert(.mask)
                default:
                    throw APIError(.invalidField, "The include parameter lists 'heatmap' and 'mask', comma-separated; '\(item.prefix(32))' is neither.")
                }
            }
        }

        public init(rawValue: Int) { self.rawValue = rawValue }
    }

    /// Regions are found on a field of at most this many pixels, scaled back to the image:
    /// the map has 15 × 15 values, so finer sampling adds nothing but memory.
    static let maxRegionFieldPixels = 1 << 22
    /// Regions listed at most; the area fraction counts them all.
    static let maxRegions = 32

    /// The regions, largest peak first, and the fraction of the image above the threshold;
    /// nil when the set has no pixel threshold.
    public var regions: [AnomalyRegionBody]?
    public var anomalousAreaFraction: Double?
    /// The heat-map and the mask as PNG files, when asked for.
    public var heatmapPNG: [UInt8]?
    public var maskPNG: [UInt8]?

    /// The pictures of `result` for `image` under a set whose pixel threshold is
    /// `pixelThreshold` (nil: no regions). The heat-map's colours run from 0 to twice the
    /// pixel threshold, so a set's images share one scale, or to the image's own largest
    /// residual when the set has none; colour fades out below the scale's middle.
    public init(result: InCTRLScore, image: DecodedImage, gridSize: Int, pixelThreshold: Float?, include: Include) throws {
        // The field and regions at the original size, when the regions' field already is.
        var originalSize: (field: AnomalyField, regions: AnomalyRegions)?
        if let pixelThreshold {
            // A field no larger than needed for boxes; the mask, when asked for, is drawn at
            // the original size.
            let scale = min(1, (Double(Self.maxRegionFieldPixels) / Double(image.width * image.height)).squareRoot())
            let fieldWidth = max(1, Int(Double(image.width) * scale)), fieldHeight = max(1, Int(Double(image.height) * scale))
            let field = try AnomalyField(residualMap: result.residualMap, gridSize: gridSize, imageWidth: fieldWidth, imageHeight: fieldHeight)
            let found = try AnomalyRegions(field: field, threshold: pixelThreshold, maxRegions: Self.maxRegions)
            let (sx, sy) = (Double(image.width) / Double(fieldWidth), Double(image.height) / Double(fieldHeight))
            regions = found.regions.map { region in
                let box = region.boundingBox
                let x = Int((Double(box.x) * sx).rounded(.down)), y = Int((Double(box.y) * sy).rounded(.down))
                return AnomalyRegionBody(
                    x: x, y: y,
                    width: min(image.width - x, Int((Double(box.x + box.width) * sx).rounded(.up)) - x),
                    height: min(image.height - y, Int((Double(box.y + box.height) * sy).rounded(.up)) - y),
                    areaFraction: region.areaFraction, peak: region.peak)
            }
            anomalousAreaFraction = found.anomalousFraction
            if fieldWidth == image.width, fieldHeight == image.height { originalSize = (field, found) }
        }
        guard !include.isEmpty else { return }
        let field = try originalSize?.field
            ?? AnomalyField(residualMap: result.residualMap, gridSize: gridSize, imageWidth: image.width, imageHeight: image.height)
        if include.contains(.heatmap) {
            let scaleMax = pixelThreshold.map { 2 * $0 } ?? field.maximum
            // The set's pixel threshold sits mid-scale; below it the colour fades, so normal
            // parts look like themselves and only what nears or passes the threshold glows.
            let picture = try HeatMapRenderer(opacity: 0.6, fadeBelow: 0.5).render(field, over: image.rgb8(), scaleMax: max(scaleMax, .leastNormalMagnitude))
            heatmapPNG = try PNGEncoder.encode(picture)
        }
        if include.contains(.mask) {
            // Without a pixel threshold nothing is a region: the mask is all zero. The mask
            // marks every pixel above the threshold, listed region or not.
            let mask = try originalSize?.regions.mask
                ?? AnomalyRegions(field: field, threshold: pixelThreshold ?? .greatestFiniteMagnitude, maxRegions: 0).mask
            maskPNG = try PNGEncoder.encode(mask)
        }
    }
}

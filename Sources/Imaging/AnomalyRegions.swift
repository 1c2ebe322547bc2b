/// The parts of an image an `AnomalyField` calls anomalous: the connected components
/// (8-connectivity, so a diagonal scratch stays one region) of pixels whose value is above a
/// threshold, with the total anomalous area and a mask to overlay or archive.
public struct AnomalyRegions: Sendable {
    /// The strongest regions, by `peak` descending, at most the `maxRegions` asked for.
    public let regions: [AnomalyRegion]
    /// How many regions there are in all, so a caller can tell the list was cut.
    public let totalRegionCount: Int
    /// Pixels above the threshold, in every region (listed or not), over the image's pixels.
    public let anomalousFraction: Double
    /// The image's size; 255 at every pixel above the threshold, 0 elsewhere.
    public let mask: Gray8Image

    /// The regions of `field` whose values exceed `threshold`, listing at most `maxRegions`.
    public init(field: AnomalyField, threshold: Float, maxRegions: Int = 32) throws(HeatMapError) {
        guard threshold.isFinite else { throw .invalidThreshold(threshold) }
        guard maxRegions >= 0 else { throw .invalidRegionLimit(maxRegions) }

        let width = field.width
        let imagePixels = Double(width * field.height)
        // 0: normal; `pending`: above the threshold, not yet in a region; 255: in a region.
        let pending: UInt8 = 1
        var mask = [UInt8](repeating: 0, count: width * field.height)
        for y in field.dataRegion.rows {
            for x in field.dataRegion.columns where field.values[y * width + x] > threshold {
                mask[y * width + x] = pending
            }
        }

        var found: [AnomalyRegion] = []
        var anomalousPixels = 0
        var stack: [Int] = []
        for y in field.dataRegion.rows {
            for x in field.dataRegion.columns where mask[y * width + x] == pending {
                // Flood fill from the region's first pixel in raster order.
                var (left, right, top, bottom) = (x, x, y, y)
                var pixelCount = 0
                var peak = -Float.infinity
                mask[y * width + x] = 255
                stack.append(y * width + x)
                while let pixel = stack.popLast() {
                    let (row, column) = pixel.quotientAndRemainder(dividingBy: width)
                    pixelCount += 1
                    peak = max(peak, field.values[pixel])
                    (left, right, top, bottom) = (min(left, column), max(right, column), min(top, row), max(bottom, row))
                    // Pixels outside the data region are never pending, so the image's bounds suffice.
                    for neighbourRow in max(row - 1, 0)...min(row + 1, field.height - 1) {
                        for neighbourColumn in max(column - 1, 0)...min(column + 1, width - 1) {
                            let neighbour = neighbourRow * width + neighbourColumn
                            if mask[neighbour] == pending {
                                mask[neighbour] = 255
                                stack.append(neighbour)
                            }
                        }
                    }
                }
                anomalousPixels += pixelCount
                found.append(AnomalyRegion(
                    boundingBox: PixelRect(x: left, y: top, width: right - left + 1, height: bottom - top + 1),
                    pixelCount: pixelCount, areaFraction: Double(pixelCount) / imagePixels, peak: peak))
            }
        }

        // Ties in peak keep raster order, so the list is reproducible.
        regions = found.enumerated().sorted { lhs, rhs in
            lhs.element.peak != rhs.element.peak ? lhs.element.peak > rhs.element.peak : lhs.offset < rhs.offset
        }.prefix(maxRegions).map(\.element)
        totalRegionCount = found.count
        anomalousFraction = Double(anomalousPixels) / imagePixels
        self.mask = Gray8Image(validatedWidth: width, height: field.height, pixels: mask)
    }
}

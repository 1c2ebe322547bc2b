import Testing
@testable import Imaging

@Suite("AnomalyRegions")
struct AnomalyRegionsTests {
    /// A 40 × 30 field with data in x 2..<38, y 1..<29 and two blobs above 0.5:
    /// - A: the 5 × 4 rectangle at (4, 3), 0.6 with a peak of 0.9; beside it (9, 3) is exactly
    ///   0.5, which is not above the threshold;
    /// - B: a diagonal chain (20, 10) … (23, 13) touching, corner to corner, the 2 × 2 square at
    ///   (24, 14), peak 0.95 — one region only under 8-connectivity.
    static func twoBlobs() -> AnomalyField {
        let (width, height) = (40, 30)
        let data = PixelRect(x: 2, y: 1, width: 36, height: 28)
        var values = [Float](repeating: .nan, count: width * height)
        for y in data.rows {
            for x in data.columns {
                values[y * width + x] = 0.1
            }
        }
        for y in 3..<7 {
            for x in 4..<9 {
                values[y * width + x] = 0.6
            }
        }
        values[5 * width + 6] = 0.9
        values[3 * width + 9] = 0.5
        for step in 0..<4 {
            values[(10 + step) * width + 20 + step] = 0.7
        }
        for y in 14..<16 {
            for x in 24..<26 {
                values[y * width + x] = 0.8
            }
        }
        values[14 * width + 24] = 0.95
        return AnomalyField(validatedWidth: width, height: height, values: values, dataRegion: data)
    }

    static let blobA = AnomalyRegion(
        boundingBox: PixelRect(x: 4, y: 3, width: 5, height: 4), pixelCount: 20, areaFraction: 20.0 / 1200, peak: 0.9)
    static let blobB = AnomalyRegion(
        boundingBox: PixelRect(x: 20, y: 10, width: 6, height: 6), pixelCount: 8, areaFraction: 8.0 / 1200, peak: 0.95)

    @Test("two separate blobs are two regions with their boxes, sizes and peaks, strongest first")
    func twoBlobsAreTwoRegions() throws {
        let found = try AnomalyRegions(field: Self.twoBlobs(), threshold: 0.5)
        #expect(found.regions == [Self.blobB, Self.blobA])
        #expect(found.totalRegionCount == 2)
        #expect(found.anomalousFraction == 28.0 / 1200)
    }

    @Test("the mask is 255 on exactly the pixels above the threshold, at the image's size")
    func maskMarksAnomalousPixels() throws {
        let field = Self.twoBlobs()
        let mask = try AnomalyRegions(field: field, threshold: 0.5).mask
        #expect(mask.width == 40 && mask.height == 30)
        for index in 0..<(40 * 30) {
            #expect(mask.pixels[index] == (field.values[index] > 0.5 ? 255 : 0), "pixel \(index)")
        }
        #expect(mask.pixels.filter { $0 == 255 }.count == 28)
    }

    @Test("the cap shortens the list but every anomalous pixel still counts")
    func capKeepsTotals() throws {
        let found = try AnomalyRegions(field: Self.twoBlobs(), threshold: 0.5, maxRegions: 1)
        #expect(found.regions == [Self.blobB])
        #expect(found.totalRegionCount == 2)
        #expect(found.anomalousFraction == 28.0 / 1200)
        #expect(found.mask.pixels.filter { $0 == 255 }.count == 28)
    }

    @Test("a threshold at or above the maximum finds nothing")
    func thresholdAboveMaximum() throws {
        let field = Self.twoBlobs()
        for threshold in [field.maximum, field.maximum + 1] {
            let found = try AnomalyRegions(field: field, threshold: threshold)
            #expect(found.regions.isEmpty && found.totalRegionCount == 0)
            #expect(found.anomalousFraction == 0)
            #expect(found.mask.pixels.allSatisfy { $0 == 0 })
        }
    }

    @Test("two hot cells of a real field give two regions, each around its own patch")
    func hotCellsOfAField() throws {
        let geometry = CropGeometry.examples[2]  // 640×360, crop offset 93 in the resized image
        var grid = [Float](repeating: 0, count: 225)
        grid[2 * 15 + 3] = 1
        grid[11 * 15 + 10] = 0.8
        let field = try AnomalyField(residualMap: grid, gridSize: 15, imageWidth: geometry.width, imageHeight: geometry.height)
        let found = try AnomalyRegions(field: field, threshold: 0.3)
        try #require(found.regions.count == 2)
        // Above 0.3 only within one patch pitch of the hot patch's centre.
        for (region, cell) in zip(found.regions, [(row: 2, column: 3), (row: 11, column: 10)]) {
            let columns = geometry.originalColumns((16 * cell.column - 16)..<(16 * cell.column + 32))
            let rows = geometry.originalRows((16 * cell.row - 16)..<(16 * cell.row + 32))
            let box = region.boundingBox
            #expect(columns.contains(box.x) && columns.contains(box.x + box.width - 1), "\(box) against x \(columns)")
            #expect(rows.contains(box.y) && rows.contains(box.y + box.height - 1), "\(box) against y \(rows)")
            #expect(region.areaFraction == Double(region.pixelCount) / Double(640 * 360))
        }
        #expect(found.regions[0].peak > found.regions[1].peak)
    }

    @Test("a non-finite threshold or a negative cap is refused")
    func validation() {
        let field = Self.twoBlobs()
        #expect(throws: HeatMapError.invalidThreshold(.infinity)) { try AnomalyRegions(field: field, threshold: .infinity) }
        #expect(throws: HeatMapError.invalidRegionLimit(-1)) { try AnomalyRegions(field: field, threshold: 0.5, maxRegions: -1) }
    }
}

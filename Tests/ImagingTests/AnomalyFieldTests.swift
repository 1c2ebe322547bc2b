#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
@testable import Imaging

@Suite("AnomalyField")
struct AnomalyFieldTests {
    static let hotCells: [(row: Int, column: Int)] = [(0, 0), (7, 7), (3, 12), (14, 1)]

    @Test("one hot grid cell peaks inside the original pixels that cell covers", arguments: CropGeometry.examples, hotCells)
    func hotCellPeaksInsideItsPatch(_ geometry: CropGeometry, _ cell: (row: Int, column: Int)) throws {
        var grid = [Float](repeating: 0, count: 225)
        grid[cell.row * 15 + cell.column] = 1
        let field = try AnomalyField(residualMap: grid, gridSize: 15, imageWidth: geometry.width, imageHeight: geometry.height)
        #expect(field.width == geometry.width && field.height == geometry.height)
        #expect(field.values.count == geometry.width * geometry.height)
        #expect(field.maximum > 0.5)

        let columns = geometry.originalColumns((16 * cell.column)..<(16 * cell.column + 16))
        let rows = geometry.originalRows((16 * cell.row)..<(16 * cell.row + 16))
        var peaks = 0
        for y in 0..<field.height {
            for x in 0..<field.width where field.values[y * field.width + x] == field.maximum {
                peaks += 1
                #expect(columns.contains(x) && rows.contains(y), "peak at (\(x), \(y)); the cell covers x \(columns), y \(rows)")
            }
        }
        #expect(peaks > 0)
    }

    @Test("only pixels whose centres fall inside the crop carry data", arguments: CropGeometry.examples)
    func dataRegionIsTheCrop(_ geometry: CropGeometry) throws {
        let grid = (0..<225).map { Float($0 % 7) / 7 }
        let field = try AnomalyField(residualMap: grid, gridSize: 15, imageWidth: geometry.width, imageHeight: geometry.height)
        let expected = geometry.dataRegion
        #expect(field.dataRegion == PixelRect(
            x: expected.columns.lowerBound, y: expected.rows.lowerBound,
            width: expected.columns.count, height: expected.rows.count))
        for y in 0..<field.height {
            for x in 0..<field.width {
                let inside = expected.columns.contains(x) && expected.rows.contains(y)
                #expect(field.values[y * field.width + x].isNaN == !inside, "pixel (\(x), \(y))")
                #expect((field.value(x: x, y: y) != nil) == inside, "pixel (\(x), \(y))")
            }
        }
    }

    @Test("equals bilinear interpolation then a 2-D Gaussian renormalised inside the crop, computed directly",
          arguments: [(50, 37, 4.0), (50, 37, 30.0), (37, 61, 12.0), (480, 240, 0.0)])
    func equalsDirectComputation(_ example: (width: Int, height: Int, sigma: Double)) throws {
        var generator = SplitMix64(seed: 7)
        let grid = (0..<225).map { _ in Float(generator.next() % 1000) / 1000 }
        let field = try AnomalyField(
            residualMap: grid, gridSize: 15, imageWidth: example.width, imageHeight: example.height,
            smoothingSigma: example.sigma)
        let expected = Self.directField(grid, width: example.width, height: example.height, sigma: example.sigma)
        for index in 0..<expected.count {
            if expected[index].isNaN {
                #expect(field.values[index].isNaN)
            } else {
                #expect(abs(field.values[index] - expected[index]) < 1e-5, "pixel \(index)")
            }
        }
    }

    @Test("a uniform residual map gives the same value everywhere, at the crop's edges too")
    func edgesDoNotDarken() throws {
        let field = try AnomalyField(
            residualMap: [Float](repeating: 0.7, count: 225), gridSize: 15, imageWidth: 640, imageHeight: 360, smoothingSigma: 30)
        for y in field.dataRegion.rows {
            for x in field.dataRegion.columns {
                #expect(abs(field.values[y * field.width + x] - 0.7) < 1e-5)
            }
        }
        #expect(abs(field.maximum - 0.7) < 1e-5)
    }

    @Test("inputs that cannot describe a heat-map are refused")
    func validation() {
        let grid = [Float](repeating: 0, count: 225)
        #expect(throws: HeatMapError.residualCountMismatch(count: 224, gridSize: 15)) {
            try AnomalyField(residualMap: Array(grid.dropLast()), gridSize: 15, imageWidth: 10, imageHeight: 10)
        }
        #expect(throws: HeatMapError.invalidGridSize(0)) {
            try AnomalyField(residualMap: [], gridSize: 0, imageWidth: 10, imageHeight: 10)
        }
        #expect(throws: HeatMapError.nonFiniteResidual(index: 3)) {
            var broken = grid
            broken[3] = .infinity
            return try AnomalyField(residualMap: broken, gridSize: 15, imageWidth: 10, imageHeight: 10)
        }
        #expect(throws: HeatMapError.invalidImageSize(width: 0, height: 10)) {
            try AnomalyField(residualMap: grid, gridSize: 15, imageWidth: 0, imageHeight: 10)
        }
        #expect(throws: HeatMapError.invalidCropSize(0)) {
            try AnomalyField(residualMap: grid, gridSize: 15, imageWidth: 10, imageHeight: 10, cropSize: 0)
        }
        #expect(throws: HeatMapError.invalidSmoothing(-1)) {
            try AnomalyField(residualMap: grid, gridSize: 15, imageWidth: 10, imageHeight: 10, smoothingSigma: -1)
        }
    }

    /// The field by its definition, pixel by pixel: bilinear interpolation between patch
    /// centres (16j + 7.5 in crop pixels, clamped at the edges), then a Gaussian of
    /// 4 · sigma · shorter side / 240 original pixels over the data pixels within 4 sigma,
    /// divided by the kernel weight that fell on data pixels. NaN outside the crop.
    private static func directField(_ grid: [Float], width: Int, height: Int, sigma cropSigma: Double) -> [Float] {
        let resizedWidth = width <= height ? 240 : Int(Double(240 * width) / Double(height))
        let resizedHeight = width <= height ? Int(Double(240 * height) / Double(width)) : 240
        let left = Int((Double(resizedWidth - 240) / 2).rounded(.toNearestOrEven))
        let top = Int((Double(resizedHeight - 240) / 2).rounded(.toNearestOrEven))
        var bilinear = [Double](repeating: .nan, count: width * height)
        for y in 0..<height {
            for x in 0..<width {
                let cropX = (Double(x) + 0.5) * Double(resizedWidth) / Double(width) - 0.5 - Double(left)
                let cropY = (Double(y) + 0.5) * Double(resizedHeight) / Double(height) - 0.5 - Double(top)
                guard (-0.5..<239.5).contains(cropX), (-0.5..<239.5).contains(cropY) else { continue }
                let gridX = min(max((cropX - 7.5) / 16, 0), 14)
                let gridY = min(max((cropY - 7.5) / 16, 0), 14)
                let (column, row) = (Int(gridX), Int(gridY))
                let (nextColumn, nextRow) = (min(column + 1, 14), min(row + 1, 14))
                let (tx, ty) = (gridX - Double(column), gridY - Double(row))
                func value(_ row: Int, _ column: Int) -> Double { Double(grid[row * 15 + column]) }
                bilinear[y * width + x] = (1 - ty) * ((1 - tx) * value(row, column) + tx * value(row, nextColumn))
                    + ty * ((1 - tx) * value(nextRow, column) + tx * value(nextRow, nextColumn))
            }
        }
        let sigma = cropSigma * Double(min(width, height)) / 240
        let radius = Int((4 * sigma).rounded(.up))
        var smoothed = [Float](repeating: .nan, count: width * height)
        for y in 0..<height {
            for x in 0..<width where !bilinear[y * width + x].isNaN {
                var sum = 0.0
                var total = 0.0
                for neighbourY in max(0, y - radius)...min(height - 1, y + radius) {
                    for neighbourX in max(0, x - radius)...min(width - 1, x + radius) where !bilinear[neighbourY * width + neighbourX].isNaN {
                        let squared = Double((neighbourX - x) * (neighbourX - x) + (neighbourY - y) * (neighbourY - y))
                        let weight = sigma > 0 ? exp(-squared / (2 * sigma * sigma)) : (squared == 0 ? 1 : 0)
                        sum += weight * bilinear[neighbourY * width + neighbourX]
                        total += weight
                    }
                }
                smoothed[y * width + x] = Float(sum / total)
            }
        }
        return smoothed
    }
}

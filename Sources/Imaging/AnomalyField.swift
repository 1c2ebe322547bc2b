/// The model's patch residual map carried back onto the original image: one value per
/// original pixel, so a heat-map and region boxes line up with the part the operator sees
/// rather than with the 240 × 240 crop the model saw.
///
/// The model saw the image resized so its shorter side is `cropSize`, then centre-cropped to
/// `cropSize × cropSize`, and cut into `gridSize × gridSize` patches. Each original pixel is
/// mapped through the inverse of that resize (`resized = (x + 0.5)·resized/original − 0.5`
/// per axis) and the crop offset; pixels whose centres fall inside the crop window form
/// `dataRegion` and get the grid interpolated bilinearly between patch centres (edge patches
/// extend to the crop's edge), then smoothed with a Gaussian of `smoothingSigma` crop pixels.
/// Every other pixel was never seen by the model and holds NaN.
public struct AnomalyField: Sendable {
    /// Width of the original image, in pixels.
    public let width: Int
    /// Height of the original image, in pixels.
    public let height: Int
    /// `width × height` values, row-major; NaN outside `dataRegion`, where there is no data.
    public let values: [Float]
    /// The original pixels the model's crop covered; the only ones with values.
    public let dataRegion: PixelRect
    /// The largest value in `dataRegion`.
    public let maximum: Float

    /// The field for an image of `imageWidth × imageHeight` pixels from its row-major
    /// `gridSize × gridSize` residual map.
    ///
    /// - Parameters:
    ///   - cropSize: the side of the model's square input (`Preprocessor.size`).
    ///   - smoothingSigma: the Gaussian's sigma in crop pixels, so the smoothing looks the
    ///     same at any original resolution (4 crop pixels is a quarter of a 16-pixel patch:
    ///     it softens the bilinear creases without moving a peak). In original pixels it is
    ///     `smoothingSigma × shorter side / cropSize` on both axes, truncated at 4 sigma and
    ///     renormalised inside `dataRegion` so the region's edges do not darken. 0 turns it off.
    public init(
        residualMap: [Float], gridSize: Int, imageWidth: Int, imageHeight: Int,
        cropSize: Int = Preprocessor.inctrl.size, smoothingSigma: Double = 4
    ) throws(HeatMapError) {
        guard (1...8192).contains(cropSize) else { throw .invalidCropSize(cropSize) }
        guard (1...cropSize).contains(gridSize) else { throw .invalidGridSize(gridSize) }
        guard residualMap.count == gridSize * gridSize else {
            throw .residualCountMismatch(count: residualMap.count, gridSize: gridSize)
        }
        if let index = residualMap.firstIndex(where: { !$0.isFinite }) { throw .nonFiniteResidual(index: index) }
        // 2^24 per side keeps the exact integer geometry in `FieldAxis` far from overflow.
        let sideLimit = 1...(1 << 24)
        guard sideLimit.contains(imageWidth), sideLimit.contains(imageHeight) else {
            throw .invalidImageSize(width: imageWidth, height: imageHeight)
        }
        guard smoothingSigma.isFinite, (0...Double(cropSize)).contains(smoothingSigma) else {
            throw .invalidSmoothing(smoothingSigma)
        }

        let plan = CropPlan(width: imageWidth, height: imageHeight, size: cropSize)
        let sigma = smoothingSigma * Double(min(imageWidth, imageHeight)) / Double(cropSize)
        let columns = FieldAxis(
            originalLength: imageWidth, resizedLength: plan.resizedWidth, cropOffset: plan.left,
            cropSize: cropSize, gridSize: gridSize, sigma: sigma)
        let rows = FieldAxis(
            originalLength: imageHeight, resizedLength: plan.resizedHeight, cropOffset: plan.top,
            cropSize: cropSize, gridSize: gridSize, sigma: sigma)
        let dataRegion = PixelRect(
            x: columns.dataRange.lowerBound, y: rows.dataRange.lowerBound,
            width: columns.dataRange.count, height: rows.dataRange.count)
        let values = Self.evaluate(residualMap, rows: rows, columns: columns, width: imageWidth, height: imageHeight)
        self.init(validatedWidth: imageWidth, height: imageHeight, values: values, dataRegion: dataRegion)
    }

    init(validatedWidth width: Int, height: Int, values: [Float], dataRegion: PixelRect) {
        self.width = width
        self.height = height
        self.values = values
        self.dataRegion = dataRegion
        var maximum = -Float.infinity
        for y in dataRegion.rows {
            for x in dataRegion.columns {
                maximum = max(maximum, values[y * width + x])
            }
        }
        self.maximum = maximum
    }

    /// The value at pixel (`x`, `y`); `nil` outside the image or where the model saw nothing.
    public func value(x: Int, y: Int) -> Float? {
        guard dataRegion.contains(x: x, y: y) else { return nil }
        return values[y * width + x]
    }

    /// `Σ_i Σ_j grid[i][j] · rowWeight_i(y) · columnWeight_j(x)` over the data region: first
    /// each grid row is spread along x (`gridSize` profiles of the region's width), then each
    /// pixel row mixes those profiles with its own `gridSize` weights.
    private static func evaluate(_ grid: [Float], rows: FieldAxis, columns: FieldAxis, width: Int, height: Int) -> [Float] {
        let gridSize = rows.gridSize
        let regionWidth = columns.dataRange.count
        var profiles = [Float](repeating: 0, count: gridSize * regionWidth)
        for gridRow in 0..<gridSize {
            for column in 0..<regionWidth {
                var sum: Float = 0
                for gridColumn in 0..<gridSize {
                    sum += grid[gridRow * gridSize + gridColumn] * columns.weights[column * gridSize + gridColumn]
                }
                profiles[gridRow * regionWidth + column] = sum
            }
        }

        var values = [Float](repeating: .nan, count: width * height)
        values.withUnsafeMutableBufferPointer { output in
            profiles.withUnsafeBufferPointer { profiles in
                rows.weights.withUnsafeBufferPointer { rowWeights in
                    for (index, y) in rows.dataRange.enumerated() {
                        let start = y * width + columns.dataRange.lowerBound
                        let line = UnsafeMutableBufferPointer(rebasing: output[start..<(start + regionWidth)])
                        line.update(repeating: 0)
                        for gridRow in 0..<gridSize {
                            let weight = rowWeights[index * gridSize + gridRow]
                            guard weight != 0 else { continue }
                            let profile = UnsafeBufferPointer(rebasing: profiles[(gridRow * regionWidth)...])
                            for column in 0..<regionWidth {
                                line[column] += weight * profile[column]
                            }
                        }
                    }
                }
            }
        }
        return values
    }
}

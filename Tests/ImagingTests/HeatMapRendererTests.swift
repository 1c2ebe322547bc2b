import Testing
@testable import Imaging

@Suite("HeatMapRenderer")
struct HeatMapRendererTests {
    /// An image of the given size whose bytes vary from pixel to pixel, so a changed pixel shows.
    static func pattern(width: Int, height: Int) throws -> RGB8Image {
        var generator = SplitMix64(seed: 11)
        let pixels = (0..<(width * height * 3)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        return try #require(RGB8Image(width: width, height: height, pixels: pixels))
    }

    static func uniformField(_ value: Float, width: Int, height: Int) throws -> AnomalyField {
        try AnomalyField(residualMap: [Float](repeating: value, count: 225), gridSize: 15, imageWidth: width, imageHeight: height)
    }

    @Test("outside the crop the original pixels are untouched; inside, opacity 1 shows the colour map",
          arguments: CropGeometry.examples)
    func colorsOnlyTheCrop(_ geometry: CropGeometry) throws {
        var grid = [Float](repeating: 0.2, count: 225)
        grid[7 * 15 + 7] = 1
        let field = try AnomalyField(residualMap: grid, gridSize: 15, imageWidth: geometry.width, imageHeight: geometry.height)
        let image = try Self.pattern(width: geometry.width, height: geometry.height)
        let rendered = try HeatMapRenderer(opacity: 1).render(field, over: image, scaleMax: 1)
        #expect(rendered.width == geometry.width && rendered.height == geometry.height)

        let data = geometry.dataRegion
        for y in 0..<geometry.height {
            for x in 0..<geometry.width {
                let pixel = (y * geometry.width + x) * 3
                let output = Array(rendered.pixels[pixel..<(pixel + 3)])
                if data.columns.contains(x) && data.rows.contains(y) {
                    let color = ColorMap.inferno.color(at: field.values[y * geometry.width + x]) * 255
                    let expected = [color.x, color.y, color.z].map { Int($0.rounded()) }
                    #expect(zip(output, expected).allSatisfy { abs(Int($0) - $1) <= 1 }, "pixel (\(x), \(y))")
                } else {
                    #expect(output == Array(image.pixels[pixel..<(pixel + 3)]), "pixel (\(x), \(y))")
                }
            }
        }
    }

    @Test("with opacity 0 the image comes back unchanged")
    func zeroOpacityKeepsImage() throws {
        let image = try Self.pattern(width: 640, height: 360)
        let field = try Self.uniformField(0.8, width: 640, height: 360)
        #expect(try HeatMapRenderer(opacity: 0).render(field, over: image, scaleMax: 1) == image)
    }

    @Test("a higher residual draws a brighter colour, up to scaleMax")
    func higherResidualIsBrighter() throws {
        let grey = try #require(RGB8Image(width: 20, height: 20, pixels: [UInt8](repeating: 128, count: 20 * 20 * 3)))
        let renderer = try HeatMapRenderer()
        var previous = -1.0
        for value in [0, 0.5, 1, 1.5, 2, 3] as [Float] {
            let rendered = try renderer.render(try Self.uniformField(value, width: 20, height: 20), over: grey, scaleMax: 3)
            let pixel = rendered.pixels[(10 * 20 + 10) * 3..<(10 * 20 + 11) * 3].map { Float($0) / 255 }
            let lightness = ColorMapTests.luminance(SIMD3(pixel[0], pixel[1], pixel[2]))
            #expect(lightness > previous, "residual \(value)")
            previous = lightness
        }
        let atScale = try renderer.render(try Self.uniformField(3, width: 20, height: 20), over: grey, scaleMax: 3)
        let beyondScale = try renderer.render(try Self.uniformField(9, width: 20, height: 20), over: grey, scaleMax: 3)
        #expect(beyondScale == atScale)
    }

    @Test("below fadeBelow the colour fades out: nothing at 0, full opacity from fadeBelow up")
    func colourFadesBelowTheScalesMiddle() throws {
        let image = try Self.pattern(width: 20, height: 20)
        let fading = try HeatMapRenderer(opacity: 0.6, fadeBelow: 0.5)
        #expect(try fading.render(try Self.uniformField(0, width: 20, height: 20), over: image, scaleMax: 2) == image)
        let plain = try HeatMapRenderer(opacity: 0.6)
        for value in [1.2, 1.5, 2] as [Float] {
            let field = try Self.uniformField(value, width: 20, height: 20)
            #expect(try fading.render(field, over: image, scaleMax: 2) == plain.render(field, over: image, scaleMax: 2), "\(value)")
        }
        // Half-way to fadeBelow: half as much colour as without fading.
        let quarter = try Self.uniformField(0.5, width: 20, height: 20)
        let faded = try fading.render(quarter, over: image, scaleMax: 2), full = try plain.render(quarter, over: image, scaleMax: 2)
        let index = (10 * 20 + 10) * 3
        for channel in 0..<3 {
            let original = Float(image.pixels[index + channel])
            let expected = original + (Float(full.pixels[index + channel]) - original) / 2
            #expect(abs(Float(faded.pixels[index + channel]) - expected) <= 1.5, "channel \(channel)")
        }
        #expect(throws: HeatMapError.invalidOpacity(1.5)) { try HeatMapRenderer(fadeBelow: 1.5) }
    }

    @Test("a bad opacity, scale or image size is refused")
    func validation() throws {
        #expect(throws: HeatMapError.invalidOpacity(1.5)) { try HeatMapRenderer(opacity: 1.5) }
        #expect(throws: HeatMapError.invalidOpacity(-0.1)) { try HeatMapRenderer(opacity: -0.1) }
        let field = try Self.uniformField(1, width: 30, height: 20)
        let image = try Self.pattern(width: 30, height: 20)
        let renderer = try HeatMapRenderer()
        #expect(throws: HeatMapError.invalidScale(0)) { try renderer.render(field, over: image, scaleMax: 0) }
        #expect(throws: HeatMapError.invalidScale(.infinity)) { try renderer.render(field, over: image, scaleMax: .infinity) }
        let other = try Self.pattern(width: 20, height: 30)
        #expect(throws: HeatMapError.sizeMismatch(fieldWidth: 30, fieldHeight: 20, imageWidth: 20, imageHeight: 30)) {
            try renderer.render(field, over: other, scaleMax: 1)
        }
    }
}

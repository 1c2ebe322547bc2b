import Testing
@testable import Imaging

@Suite("NearestResampler")
struct NearestResamplerTests {
    @Test("source indices follow Pillow's accumulated step, including the window offset")
    func indicesReplayPillowWalk() {
        // Expected values are Pillow's `resize(..., NEAREST)` of a ramp. Upscaling 3 → 10 walks
        // 0.15, 0.45, ..., 1.95, 2.25, ... (step 0.3).
        #expect(NearestResampler.sourceIndices(inputSize: 3, outputSize: 10, window: 0..<10) == [0, 0, 0, 1, 1, 1, 1, 2, 2, 2])
        #expect(NearestResampler.sourceIndices(inputSize: 3, outputSize: 10, window: 5..<8) == [1, 1, 2])
        // Downscaling 10 → 4: positions 1.25, 3.75, 6.25, 8.75.
        #expect(NearestResampler.sourceIndices(inputSize: 10, outputSize: 4, window: 0..<4) == [1, 3, 6, 8])
    }

    @Test("indices stay inside the source even far along a huge output")
    func hugeOutputsStayInBounds() {
        let indices = NearestResampler.sourceIndices(inputSize: 40_000_000, outputSize: 9_600_000_000, window: 4_799_999_880..<4_800_000_120)
        #expect(indices.count == 240)
        #expect(indices.allSatisfy { (0..<40_000_000).contains($0) })
    }

    @Test("palette images keep only palette colours (no interpolation)")
    func paletteStaysExact() throws {
        let indices: [UInt8] = (0..<(37 * 29)).map { UInt8(($0 * 7) % 3) }
        let palette: [UInt8] = [10, 20, 30, 200, 100, 50, 0, 255, 0]
        let image = try #require(DecodedImage(width: 37, height: 29, mode: .palette, samples: .uint8(indices), palette: palette))
        let rgb = Preprocessor.inctrl.rgb8(image)
        let colours = Set(stride(from: 0, to: rgb.pixels.count, by: 3).map { [rgb.pixels[$0], rgb.pixels[$0 + 1], rgb.pixels[$0 + 2]] })
        #expect(colours == [[10, 20, 30], [200, 100, 50], [0, 255, 0]])
    }
}

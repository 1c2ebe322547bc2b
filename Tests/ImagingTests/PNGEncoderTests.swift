import Testing
@testable import Imaging

@Suite("PNGEncoder")
struct PNGEncoderTests {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    @Test("an RGB image survives encoding and the module's own decoding byte for byte", arguments: [(1, 1), (7, 5), (300, 200)])
    func rgbRoundTrip(_ size: (width: Int, height: Int)) throws {
        var generator = SplitMix64(seed: 5)
        let pixels = (0..<(size.width * size.height * 3)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        let image = try #require(RGB8Image(width: size.width, height: size.height, pixels: pixels))
        let png = try PNGEncoder.encode(image)
        #expect(Array(png.prefix(8)) == Self.signature)
        let decoded = try ImageDecoder.decode(png)
        #expect(decoded.mode == .rgb && decoded.width == size.width && decoded.height == size.height)
        #expect(decoded.samples == .uint8(pixels))
    }

    @Test("a grey mask survives encoding and decoding byte for byte")
    func grayRoundTrip() throws {
        // Runs of 255 on diagonals over a ramp: every byte value up to 199 and long runs.
        let pixels: [UInt8] = (0..<(64 * 48)).map { index in
            let (row, column) = index.quotientAndRemainder(dividingBy: 64)
            return (row + column) % 5 == 0 ? 255 : UInt8(index % 200)
        }
        let mask = try #require(Gray8Image(width: 64, height: 48, pixels: pixels))
        let png = try PNGEncoder.encode(mask)
        #expect(Array(png.prefix(8)) == Self.signature)
        let decoded = try ImageDecoder.decode(png)
        #expect(decoded.mode == .gray && decoded.width == 64 && decoded.height == 48)
        #expect(decoded.samples == .uint8(pixels))
    }

    @Test("a side beyond PNG's 2^31 − 1 pixels is refused before any pixel is read")
    func refusesOversizedImage() {
        let image = RGB8Image(validatedWidth: 1 << 31, height: 1, pixels: [])
        #expect(throws: PNGEncodeError.dimensionsTooLarge(width: 1 << 31, height: 1)) { try PNGEncoder.encode(image) }
    }
}

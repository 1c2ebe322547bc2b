import Testing
@testable import Imaging

@Suite("ImageDecoder")
struct ImageDecoderTests {
    @Test("decodes every corpus file to Pillow's mode, size and samples", arguments: Corpus.cases)
    func matchesPillowDecoding(_ testCase: Corpus.Case) throws {
        let image = try Corpus.decode(testCase.input)
        #expect(image.format?.rawValue == testCase.format)
        #expect(image.width == testCase.width && image.height == testCase.height)
        #expect(image.mode.rawValue == testCase.mode)
        let checksum = switch image.samples {
        case .uint8(let bytes): CRC32.checksum(bytes)
        case .uint16(let words): CRC32.checksum(of: words)
        }
        #expect(checksum == testCase.decodedCRC32, "decoded samples differ from Pillow's — \(testCase.note)")
        if let palette = testCase.palette {
            #expect(Array(palette.prefix(image.palette.count)) == image.palette)
        }
    }
}

@Suite("ImageDecoder limits and formats")
struct ImageDecoderLimitTests {
    @Test("an empty body is its own error")
    func emptyBody() {
        #expect(throws: ImageDecodeError.empty) { try ImageDecoder.decode([]) }
    }

    @Test("random bytes are an unsupported format")
    func randomBytes() {
        var generator = SplitMix64(seed: 3)
        for length in [1, 2, 7, 8, 100, 4096] {
            var noise = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            if noise.first == 0xFF || noise.first == 0x89 { noise[0] = 0 }
            #expect(throws: ImageDecodeError.unsupportedFormat(detected: nil)) { try ImageDecoder.decode(noise) }
        }
    }

    @Test("files above the encoded-size limit are refused before parsing")
    func encodedSizeLimit() throws {
        let png = try Corpus.bytes("inputs/png_gray8_1x1.png")
        let limits = ImageLimits(maxEncodedBytes: png.count - 1)
        #expect(throws: ImageDecodeError.encodedTooLarge(bytes: png.count, limit: png.count - 1)) {
            try ImageDecoder.decode(png, limits: limits)
        }
    }

    @Test("errors read as sentences a user can act on")
    func errorMessages() {
        #expect(ImageDecodeError.tooManyPixels(width: 100_000, height: 100_000, limit: 40_000_000).description
            == "the image is 100000×100000 pixels, more than the limit of 40000000 pixels; downscale it before sending")
        #expect(ImageDecodeError.unsupportedFormat(detected: "GIF").description == "GIF images are not supported; send a PNG or JPEG file")
        #expect(ImageDecodeError.truncated(format: .png).description.contains("truncated"))
    }
}

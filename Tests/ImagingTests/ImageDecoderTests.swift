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

import Testing
@testable import Imaging

@Suite("ImageFormat")
struct ImageFormatTests {
    @Test("recognises PNG and JPEG by signature only")
    func sniffsSignatures() {
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0]
        let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0]
        #expect(png.withUnsafeBytes { ImageFormat.sniff($0) } == .png)
        #expect(jpeg.withUnsafeBytes { ImageFormat.sniff($0) } == .jpeg)
        #expect(Array(png.prefix(7)).withUnsafeBytes { ImageFormat.sniff($0) } == nil)
        #expect([UInt8]([0xFF, 0xD8]).withUnsafeBytes { ImageFormat.sniff($0) } == nil)
    }

    @Test("names well-known unsupported formats in the error", arguments: [
        (Array("GIF89a".utf8) + [0, 0], "GIF"),
        (Array("BM".utf8) + [0, 0, 0, 0], "BMP"),
        (Array("RIFF".utf8) + [0, 0, 0, 0] + Array("WEBPVP8 ".utf8), "WebP"),
        ([0x49, 0x49, 0x2A, 0x00, 8, 0, 0, 0], "TIFF"),
        ([0, 0, 0, 0x18] + Array("ftypheic".utf8) + [0, 0], "HEIF/AVIF"),
    ] as [([UInt8], String)])
    func namesUnsupportedFormats(_ example: ([UInt8], String)) {
        #expect(throws: ImageDecodeError.unsupportedFormat(detected: example.1)) {
            try ImageDecoder.decode(example.0)
        }
    }
}

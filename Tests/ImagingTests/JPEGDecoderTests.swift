import Testing
@testable import Imaging

/// Every class of broken JPEG ends in a typed error, never a crash or a huge allocation.
@Suite("JPEGDecoder hostile input")
struct JPEGDecoderTests {
    static func baseline() throws -> [UInt8] {
        try Corpus.bytes("inputs/jpeg_420_239x241.jpg")
    }

    /// Marker segments before the first scan: (offset of the FF, marker, segment length).
    static func segments(_ jpeg: [UInt8]) -> [(offset: Int, marker: UInt8, length: Int)] {
        var segments: [(Int, UInt8, Int)] = []
        var offset = 2
        while offset + 4 <= jpeg.count, jpeg[offset] == 0xFF {
            let marker = jpeg[offset + 1]
            let length = Int(jpeg[offset + 2]) << 8 | Int(jpeg[offset + 3])
            segments.append((offset, marker, length))
            if marker == 0xDA { break }
            offset += 2 + length
        }
        return segments
    }

    static func removing(_ marker: UInt8, from jpeg: [UInt8]) -> [UInt8] {
        var result = jpeg
        for segment in segments(jpeg).reversed() where segment.marker == marker {
            result.removeSubrange(segment.offset..<(segment.offset + 2 + segment.length))
        }
        return result
    }

    static func frameHeaderOffset(_ jpeg: [UInt8]) throws -> Int {
        try #require(segments(jpeg).first { $0.marker == 0xC0 }).offset
    }

    @Test("a file cut anywhere in the scan data is truncation, as Pillow says")
    func truncatedScan() throws {
        let jpeg = try Self.baseline()
        let scanStart = try #require(Self.segments(jpeg).last).offset + 14
        for length in stride(from: scanStart, to: jpeg.count, by: max(1, (jpeg.count - scanStart) / 40)) {
            #expect(throws: ImageDecodeError.truncated(format: .jpeg), "prefix of \(length) bytes") {
                try ImageDecoder.decode(Array(jpeg.prefix(length)))
            }
        }
        #expect(throws: ImageDecodeError.truncated(format: .jpeg)) { try ImageDecoder.decode(Array(jpeg.dropLast(2))) }
    }

    @Test("every truncation of the headers is refused with a typed error")
    func truncatedHeaders() throws {
        let jpeg = try Self.baseline()
        let scanStart = try #require(Self.segments(jpeg).last).offset
        for length in 1...(scanStart + 14) {
            #expect(throws: ImageDecodeError.self, "prefix of \(length) bytes") {
                try ImageDecoder.decode(Array(jpeg.prefix(length)))
            }
        }
    }

    @Test("a missing frame header (SOF) is refused as corrupt")
    func missingFrameHeader() throws {
        #expect(throws: ImageDecodeError.corrupt(format: .jpeg, detail: "Invalid JPEG file structure: SOS before SOF")) {
            try ImageDecoder.decode(Self.removing(0xC0, from: Self.baseline()))
        }
    }

    @Test("missing quantisation tables are refused as corrupt")
    func missingQuantisationTables() throws {
        #expect(throws: ImageDecodeError.corrupt(format: .jpeg, detail: "Quantization table 0x00 was not defined")) {
            try ImageDecoder.decode(Self.removing(0xDB, from: Self.baseline()))
        }
    }

    @Test("a missing scan (SOS) is refused as corrupt")
    func missingScan() throws {
        let jpeg = try Self.baseline()
        let scan = try #require(Self.segments(jpeg).last)
        let headersThenEnd = Array(jpeg.prefix(scan.offset)) + [0xFF, 0xD9]
        #expect(throws: ImageDecodeError.corrupt(format: .jpeg, detail: "Invalid JPEG file structure: missing SOS marker")) {
            try ImageDecoder.decode(headersThenEnd)
        }
    }

    @Test("a frame without any image data is refused")
    func noFrame() {
        #expect(throws: ImageDecodeError.self) { try ImageDecoder.decode([0xFF, 0xD8, 0xFF, 0xD9]) }
        #expect(throws: ImageDecodeError.self) { try ImageDecoder.decode([0xFF, 0xD8, 0xFF, 0xE0, 0x00]) }
    }

    @Test("a zero width or height is refused", arguments: [5, 7])
    func zeroDimension(_ field: Int) throws {
        var jpeg = try Self.baseline()
        let frame = try Self.frameHeaderOffset(jpeg)
        jpeg[frame + field] = 0
        jpeg[frame + field + 1] = 0
        #expect(throws: ImageDecodeError.invalidDimensions(format: .jpeg, detail: "Empty JPEG image (DNL not supported)")) {
            try ImageDecoder.decode(jpeg)
        }
    }

    @Test("a huge declared size is refused from the header, before any pixel buffer exists")
    func hugeDimensions() throws {
        var jpeg = try Self.baseline()
        let frame = try Self.frameHeaderOffset(jpeg)
        jpeg.replaceSubrange((frame + 5)...(frame + 8), with: [0xFD, 0xE8, 0xFD, 0xE8])
        #expect(throws: ImageDecodeError.tooManyPixels(width: 65_000, height: 65_000, limit: 40_000_000)) {
            try ImageDecoder.decode(jpeg)
        }
    }

    @Test("12-bit samples are an unsupported feature (Pillow refuses them too)")
    func twelveBitPrecision() throws {
        var jpeg = try Self.baseline()
        jpeg[try Self.frameHeaderOffset(jpeg) + 4] = 12
        #expect(throws: ImageDecodeError.unsupportedFeature(format: .jpeg, detail: "Unsupported JPEG data precision 12")) {
            try ImageDecoder.decode(jpeg)
        }
    }

    @Test("random bytes after a JPEG signature are refused as corrupt")
    func randomBytesAfterSignature() {
        var generator = SplitMix64(seed: 7)
        for _ in 0..<50 {
            let noise = (0..<300).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            #expect(throws: ImageDecodeError.self) { try ImageDecoder.decode([0xFF, 0xD8, 0xFF] + noise) }
        }
    }

    @Test("corrupt scan data decodes the way libjpeg recovers (as Pillow does) instead of failing")
    func corruptScanDataIsRecovered() throws {
        var jpeg = try Self.baseline()
        for index in (jpeg.count / 2)..<(jpeg.count / 2 + 64) {
            jpeg[index] = UInt8(truncatingIfNeeded: index &* 37)
        }
        let image = try ImageDecoder.decode(jpeg)
        #expect(image.width == 239 && image.height == 241)
    }
}

/// A small deterministic generator for noise inputs.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}

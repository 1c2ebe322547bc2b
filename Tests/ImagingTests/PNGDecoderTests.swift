import Testing
@testable import Imaging

/// Every class of broken PNG ends in a typed error, never a crash or a huge allocation.
@Suite("PNGDecoder hostile input")
struct PNGDecoderTests {
    /// A valid 5×4 8-bit grey PNG whose pixel at (x, y) is 40·y + x.
    static let grayRows: [[UInt8]] = (0..<4).map { y in (0..<5).map { x in UInt8(40 * y + x) } }
    static let gray = PNGBuilder(width: 5, height: 4, rows: grayRows)

    @Test("the builder's PNG itself decodes (so the breakages below are the only fault)")
    func validBaseline() throws {
        let image = try ImageDecoder.decode(Self.gray.encoded())
        #expect(image.mode == .gray && image.width == 5 && image.height == 4)
        let expected: [UInt8] = Self.grayRows.flatMap { $0 }
        #expect(image.samples == .uint8(expected))
    }

    @Test("every truncation is refused with a typed error")
    func everyPrefixIsRefused() throws {
        let png = Self.gray.encoded()
        let idat = try #require(PNGChunks.offset(of: "IDAT", in: png))
        let iend = try #require(PNGChunks.offset(of: "IEND", in: png))
        for length in 1..<iend {
            #expect(throws: ImageDecodeError.self, "prefix of \(length) bytes") {
                try ImageDecoder.decode(Array(png.prefix(length)))
            }
        }
        // Cut inside the image data: the file ends before the image is complete.
        for length in (idat + 8)..<(iend - 4) {
            #expect(throws: ImageDecodeError.truncated(format: .png)) {
                try ImageDecoder.decode(Array(png.prefix(length)))
            }
        }
    }

    @Test("a wrong CRC in a critical chunk is a checksum error", arguments: ["IHDR", "IDAT"])
    func badCRC(_ chunk: String) throws {
        var png = Self.gray.encoded()
        let offset = try #require(PNGChunks.offset(of: chunk, in: png))
        let length = Int(png[offset + 3])
        png[offset + 8 + length] ^= 0x5A
        #expect(throws: ImageDecodeError.checksumMismatch(format: .png, detail: "a chunk's CRC-32 does not match its data")) {
            try ImageDecoder.decode(png)
        }
    }

    @Test("a zero width or height is refused", arguments: [(0, 4), (5, 0)])
    func zeroDimensions(_ size: (width: UInt32, height: UInt32)) {
        var builder = Self.gray
        builder.width = size.width
        builder.height = size.height
        #expect(throws: ImageDecodeError.self) { try ImageDecoder.decode(builder.encoded()) }
        do {
            _ = try ImageDecoder.decode(builder.encoded())
        } catch {
            guard case .invalidDimensions(format: .png, _) = error else {
                Issue.record("expected invalidDimensions, got \(error)")
                return
            }
        }
    }

    @Test("dimensions beyond the PNG maximum (2^31 − 1) are refused")
    func dimensionsBeyondSpecification() {
        var builder = Self.gray
        builder.width = 1 << 31
        do {
            _ = try ImageDecoder.decode(builder.encoded())
            Issue.record("decoded a 2^31-pixel-wide PNG")
        } catch {
            guard case .invalidDimensions(format: .png, _) = error else {
                Issue.record("expected invalidDimensions, got \(error)")
                return
            }
        }
    }

    @Test("a huge declared size is refused from the header, before any pixel buffer exists")
    func hugeDimensions() throws {
        var builder = Self.gray
        builder.width = 100_000
        builder.height = 100_000
        #expect(throws: ImageDecodeError.tooManyPixels(width: 100_000, height: 100_000, limit: 40_000_000)) {
            try ImageDecoder.decode(builder.encoded())
        }
        let limits = ImageLimits(maxPixels: 19)
        #expect(throws: ImageDecodeError.tooManyPixels(width: 5, height: 4, limit: 19)) {
            try ImageDecoder.decode(Self.gray.encoded(), limits: limits)
        }
    }

    @Test("palette indices beyond the palette are refused", arguments: [8, 4, 2] as [UInt8])
    func paletteIndexOutOfRange(_ depth: UInt8) {
        // Three palette entries; the second row uses index 3 (the first one past the end).
        let perByte = 8 / Int(depth)
        let pack: ([UInt8]) -> [UInt8] = { indices in
            stride(from: 0, to: indices.count, by: perByte).map { start in
                indices[start..<min(start + perByte, indices.count)].enumerated().reduce(0) { byte, element in
                    byte | element.element << (8 - Int(depth) * (element.offset + 1))
                }
            }
        }
        let builder = PNGBuilder(
            width: 4, height: 2, bitDepth: depth, colorType: 3,
            chunksBeforeImage: [("PLTE", [0, 0, 0, 128, 128, 128, 255, 255, 255])],
            rows: [pack([0, 1, 2, 1]), pack([2, 3, 0, 0])]
        )
        #expect(throws: ImageDecodeError.paletteIndexOutOfRange(index: 3, paletteSize: 3)) {
            try ImageDecoder.decode(builder.encoded())
        }
    }

    @Test("an indexed image without a palette is refused")
    func missingPalette() {
        let builder = PNGBuilder(width: 2, height: 1, colorType: 3, rows: [[0, 0]])
        #expect(throws: ImageDecodeError.self) { try ImageDecoder.decode(builder.encoded()) }
    }

    @Test("a chunk length pointing past the end of the file is truncation")
    func chunkLengthBeyondFile() throws {
        var png = Self.gray.encoded()
        let offset = try #require(PNGChunks.offset(of: "IDAT", in: png))
        png.replaceSubrange(offset..<(offset + 4), with: PNGBuilder.bigEndian(1_000_000))
        #expect(throws: ImageDecodeError.truncated(format: .png)) { try ImageDecoder.decode(png) }
    }

    @Test("a chunk length above the PNG maximum is refused as corrupt")
    func chunkLengthAboveMaximum() throws {
        var png = Self.gray.encoded()
        let offset = try #require(PNGChunks.offset(of: "IDAT", in: png))
        png.replaceSubrange(offset..<(offset + 4), with: PNGBuilder.bigEndian(0xFFFF_FFF0))
        #expect(throws: ImageDecodeError.corrupt(format: .png, detail: "chunk exceeds maximum standard length")) {
            try ImageDecoder.decode(png)
        }
    }

    @Test("a chunk length shorter than the data misreads the CRC and is refused")
    func chunkLengthTooShort() throws {
        var png = Self.gray.encoded()
        let offset = try #require(PNGChunks.offset(of: "IDAT", in: png))
        png.replaceSubrange(offset..<(offset + 4), with: PNGBuilder.bigEndian(6))
        #expect(throws: ImageDecodeError.self) { try ImageDecoder.decode(png) }
    }

    @Test("an invalid colour type / bit depth pair is refused", arguments: [(2, 4), (3, 16), (0, 3), (5, 8)] as [(UInt8, UInt8)])
    func invalidColourType(_ pair: (colorType: UInt8, bitDepth: UInt8)) {
        var builder = Self.gray
        builder.colorType = pair.colorType
        builder.bitDepth = pair.bitDepth
        #expect(throws: ImageDecodeError.self) { try ImageDecoder.decode(builder.encoded()) }
    }

    @Test("a corrupt deflate stream or Adler-32 is refused as corrupt")
    func corruptImageData() throws {
        var garbage = Self.gray.encoded()
        PNGChunks.rewrite("IDAT", in: &garbage) { data in
            for index in 2..<data.count { data[index] = 0xFF }
        }
        var badAdler = Self.gray.encoded()
        PNGChunks.rewrite("IDAT", in: &badAdler) { data in data[data.count - 1] ^= 0xFF }
        for png in [garbage, badAdler] {
            do {
                _ = try ImageDecoder.decode(png)
                Issue.record("decoded corrupt image data")
            } catch {
                guard case .corrupt(format: .png, _) = error else {
                    Issue.record("expected corrupt, got \(error)")
                    continue
                }
            }
        }
    }

    @Test("image data shorter than the image is truncation")
    func imageDataTooShort() {
        var builder = Self.gray
        builder.rows.removeLast()
        #expect(throws: ImageDecodeError.truncated(format: .png)) { try ImageDecoder.decode(builder.encoded()) }
    }

    @Test("an unknown critical chunk is an unsupported feature")
    func unknownCriticalChunk() {
        var builder = Self.gray
        builder.chunksBeforeImage = [("ABCD", [1, 2, 3])]
        #expect(throws: ImageDecodeError.unsupportedFeature(format: .png, detail: "unknown critical chunk")) {
            try ImageDecoder.decode(builder.encoded())
        }
    }

    @Test("unknown ancillary chunks are skipped")
    func unknownAncillaryChunk() throws {
        var builder = Self.gray
        builder.chunksBeforeImage = [("abCD", [1, 2, 3])]
        #expect(try ImageDecoder.decode(builder.encoded()).width == 5)
    }

    @Test("a zip bomb behind a 100 000 × 100 000 header is refused from the header")
    func zipBombWithHugeHeader() throws {
        let png = try Corpus.bytes("hostile/bomb_100000x100000.png")
        #expect(throws: ImageDecodeError.tooManyPixels(width: 100_000, height: 100_000, limit: 40_000_000)) {
            try ImageDecoder.decode(png)
        }
    }

    @Test("image data followed by 64 MiB of compressed zeros decodes without inflating them")
    func zipBombAfterImageData() throws {
        let png = try Corpus.bytes("hostile/trailing_bomb_64x64.png")
        let image = try ImageDecoder.decode(png)
        let row: [UInt8] = (0..<64).map { UInt8($0) }
        let expected: [UInt8] = Array((0..<64).map { _ in row }.joined())
        #expect(image.samples == .uint8(expected))
    }

    @Test("a zTXt chunk inflating to 64 MiB exceeds the metadata budget")
    func zipBombInText() throws {
        let png = try Corpus.bytes("hostile/ztxt_bomb_8x8.png")
        #expect(throws: ImageDecodeError.metadataTooLarge(limit: 8 << 20)) { try ImageDecoder.decode(png) }
    }
}

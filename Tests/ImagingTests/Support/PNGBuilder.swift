/// Writes small PNG files byte by byte, so each hostile-input test states exactly which field
/// it breaks. Image data is stored in uncompressed deflate blocks (RFC 1951 §3.2.4), which
/// need no compressor.
struct PNGBuilder {
    var width: UInt32
    var height: UInt32
    var bitDepth: UInt8 = 8
    var colorType: UInt8 = 0
    var interlace: UInt8 = 0
    /// Chunks written between IHDR and IDAT, e.g. PLTE.
    var chunksBeforeImage: [(type: String, data: [UInt8])] = []
    /// Unfiltered scanlines; a filter byte of 0 is prepended to each.
    var rows: [[UInt8]] = []

    func encoded() -> [UInt8] {
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        png += Self.chunk("IHDR", Self.bigEndian(width) + Self.bigEndian(height) + [bitDepth, colorType, 0, 0, interlace])
        for extra in chunksBeforeImage {
            png += Self.chunk(extra.type, extra.data)
        }
        png += Self.chunk("IDAT", Self.zlibStored(rows.flatMap { [0] + $0 }))
        png += Self.chunk("IEND", [])
        return png
    }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let typeBytes = Array(type.utf8)
        return bigEndian(UInt32(data.count)) + typeBytes + data + bigEndian(CRC32.checksum(typeBytes + data))
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }

    /// A zlib stream (RFC 1950) of stored deflate blocks.
    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var stream: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let length = min(65_535, data.count - offset)
            let isLast: UInt8 = offset + length == data.count ? 1 : 0
            stream += [isLast, UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8((~length >> 8) & 0xFF)]
            stream += data[offset..<(offset + length)]
            offset += length
        } while offset < data.count
        var a: UInt32 = 1
        var b: UInt32 = 0
        for byte in data {
            a = (a + UInt32(byte)) % 65_521
            b = (b + a) % 65_521
        }
        return stream + bigEndian(b << 16 | a)
    }
}

/// Locating chunks in an encoded PNG, to break one field of a valid file.
enum PNGChunks {
    /// The byte offset of the length field of the first chunk of `type`.
    static func offset(of type: String, in png: [UInt8]) -> Int? {
        var offset = 8
        let typeBytes = Array(type.utf8)
        while offset + 8 <= png.count {
            let length = Int(png[offset]) << 24 | Int(png[offset + 1]) << 16 | Int(png[offset + 2]) << 8 | Int(png[offset + 3])
            if Array(png[(offset + 4)..<(offset + 8)]) == typeBytes { return offset }
            offset += 12 + length
        }
        return nil
    }

    /// Rewrites a chunk's data in place and recomputes its CRC, so only the content is wrong.
    static func rewrite(_ type: String, in png: inout [UInt8], _ edit: (inout [UInt8]) -> Void) {
        guard let offset = offset(of: type, in: png) else { return }
        let length = Int(png[offset]) << 24 | Int(png[offset + 1]) << 16 | Int(png[offset + 2]) << 8 | Int(png[offset + 3])
        var data = Array(png[(offset + 8)..<(offset + 8 + length)])
        edit(&data)
        png.replaceSubrange(offset..<(offset + 12 + length), with: PNGBuilder.chunk(type, data))
    }
}

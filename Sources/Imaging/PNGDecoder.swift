import CSPNG

/// PNG decoding through libspng, producing Pillow's modes for every colour type and bit
/// depth (PngImagePlugin's mode table), so the pre-processing sees what the reference saw.
///
/// Gamma, colour-profile and transparency chunks are parsed by libspng but never applied,
/// as Pillow does not apply them either.
enum PNGDecoder {
    static func decode(_ bytes: UnsafeRawBufferPointer, limits: ImageLimits) throws(ImageDecodeError) -> DecodedImage {
        guard let context = spng_ctx_new(0) else {
            throw .decoderFailure(format: .png, detail: "could not allocate a decoding context")
        }
        defer { spng_ctx_free(context) }

        try check(spng_set_png_buffer(context, bytes.baseAddress, bytes.count), limits: limits)
        // Ancillary chunks (text, ICC profiles) are the only allocations libspng sizes from the
        // file; bounding them defuses zTXt/iCCP decompression bombs. Image data is inflated
        // row by row into the output buffer and trailing data is never inflated.
        let metadataBudget = min(max(0, limits.maxMetadataBytes), Int(UInt32.max))
        try check(spng_set_chunk_limits(context, metadataBudget, metadataBudget), limits: limits)

        var header = spng_ihdr()
        try check(spng_get_ihdr(context, &header), limits: limits)
        let width = Int(header.width)
        let height = Int(header.height)
        try ImageDecoder.checkPixelCount(width: width, height: height, limits: limits)

        let layout = SampleLayout(colorType: header.color_type, bitDepth: header.bit_depth)
        var decodedSize = 0
        try check(spng_decoded_image_size(context, Int32(SPNG_FMT_PNG.rawValue), &decodedSize), limits: limits)

        if layout == .gray16 {
            let words = try decodeImage(context, byteCount: decodedSize, as: UInt16.self, limits: limits)
            return DecodedImage(validatedWidth: width, height: height, mode: .gray16, samples: .uint16(words), palette: [], format: .png)
        }
        // For Adam7 images below 8 bits libspng ORs each pass's samples into the output, so
        // that buffer has to start zeroed; every other layout is written in full.
        let raw = header.interlace_method != 0 && header.bit_depth < 8
            ? try decodeImageIntoZeroedBuffer(context, byteCount: decodedSize, limits: limits)
            : try decodeImage(context, byteCount: decodedSize, as: UInt8.self, limits: limits)
        let rowBytes = decodedSize / height

        switch layout {
        case .gray(let depth) where depth == 1:
            let pixels = unpackSubByteRows(raw, width: width, height: height, rowBytes: rowBytes, depth: 1) { $0 == 0 ? 0 : 255 }
            return image(width, height, .bilevel, pixels)
        case .gray(let depth) where depth < 8:
            // Pillow's L;2 and L;4 unpackers scale to the full 8-bit range.
            let scale: UInt8 = depth == 2 ? 0x55 : 0x11
            let pixels = unpackSubByteRows(raw, width: width, height: height, rowBytes: rowBytes, depth: depth) { $0 &* scale }
            return image(width, height, .gray, pixels)
        case .gray:
            return image(width, height, .gray, raw)
        case .rgb(let depth):
            return image(width, height, .rgb, depth == 16 ? highBytes(raw) : raw)
        case .grayAlpha(let depth) where depth == 16:
            // Pillow opens 16-bit grey+alpha as RGBA through its LA;16B unpacker (high bytes).
            return image(width, height, .rgba, expandGrayAlpha16(raw))
        case .grayAlpha:
            return image(width, height, .grayAlpha, raw)
        case .rgba(let depth):
            return image(width, height, .rgba, depth == 16 ? highBytes(raw) : raw)
        case .indexed(let depth):
            let palette = try readPalette(context, limits: limits)
            let indices = depth == 8
                ? raw
                : unpackSubByteRows(raw, width: width, height: height, rowBytes: rowBytes, depth: depth) { $0 }
            let paletteSize = palette.count / 3
            if let highest = indices.max(), Int(highest) >= paletteSize {
                throw .paletteIndexOutOfRange(index: Int(highest), paletteSize: paletteSize)
            }
            return DecodedImage(validatedWidth: width, height: height, mode: .palette, samples: .uint8(indices), palette: palette, format: .png)
        case .gray16, .invalid:
            throw .corrupt(format: .png, detail: "colour type \(header.color_type) with bit depth \(header.bit_depth)")
        }
    }

    /// PNG specification §11.2.2, Table 11.1: the permitted colour type / bit depth pairs.
    private enum SampleLayout: Equatable {
        case gray(depth: Int)
        case gray16
        case rgb(depth: Int)
        case indexed(depth: Int)
        case grayAlpha(depth: Int)
        case rgba(depth: Int)
        case invalid

        init(colorType: UInt8, bitDepth: UInt8) {
            let depth = Int(bitDepth)
            switch (colorType, depth) {
            case (0, 16): self = .gray16
            case (0, 1), (0, 2), (0, 4), (0, 8): self = .gray(depth: depth)
            case (2, 8), (2, 16): self = .rgb(depth: depth)
            case (3, 1), (3, 2), (3, 4), (3, 8): self = .indexed(depth: depth)
            case (4, 8), (4, 16): self = .grayAlpha(depth: depth)
            case (6, 8), (6, 16): self = .rgba(depth: depth)
            default: self = .invalid
            }
        }
    }

    private static func image(_ width: Int, _ height: Int, _ mode: PixelMode, _ pixels: [UInt8]) -> DecodedImage {
        DecodedImage(validatedWidth: width, height: height, mode: mode, samples: .uint8(pixels), palette: [], format: .png)
    }

    /// Runs libspng's one-shot decode into a fresh buffer in the PNG's own sample format
    /// (host-endian for 16-bit, packed rows for sub-byte depths).
    private static func decodeImage<Sample>(
        _ context: OpaquePointer, byteCount: Int, as _: Sample.Type, limits: ImageLimits
    ) throws(ImageDecodeError) -> [Sample] {
        var status: Int32 = 0
        let samples = [Sample](unsafeUninitializedCapacity: byteCount / MemoryLayout<Sample>.stride) { buffer, initialized in
            status = spng_decode_image(context, buffer.baseAddress, byteCount, Int32(SPNG_FMT_PNG.rawValue), 0)
            // libspng writes every byte on success; on failure the contents are discarded.
            initialized = buffer.count
        }
        try check(status, limits: limits)
        try readToEnd(context, limits: limits)
        return samples
    }

    /// libspng stops once the image is complete, before the last IDAT's CRC and the chunks
    /// after it; reading on to IEND verifies that CRC and refuses files cut after the image.
    private static func readToEnd(_ context: OpaquePointer, limits: ImageLimits) throws(ImageDecodeError) {
        try check(spng_decode_chunks(context), limits: limits)
    }

    private static func decodeImageIntoZeroedBuffer(
        _ context: OpaquePointer, byteCount: Int, limits: ImageLimits
    ) throws(ImageDecodeError) -> [UInt8] {
        var samples = [UInt8](repeating: 0, count: byteCount)
        let status = samples.withUnsafeMutableBytes { buffer in
            spng_decode_image(context, buffer.baseAddress, byteCount, Int32(SPNG_FMT_PNG.rawValue), 0)
        }
        try check(status, limits: limits)
        try readToEnd(context, limits: limits)
        return samples
    }

    private static func readPalette(_ context: OpaquePointer, limits: ImageLimits) throws(ImageDecodeError) -> [UInt8] {
        var table = spng_plte()
        try check(spng_get_plte(context, &table), limits: limits)
        let entryCount = min(Int(table.n_entries), 256)
        return withUnsafeBytes(of: &table.entries) { entries in
            var rgb = [UInt8]()
            rgb.reserveCapacity(entryCount * 3)
            let stride = MemoryLayout<spng_plte_entry>.stride
            for entry in 0..<entryCount {
                rgb.append(entries[entry * stride])
                rgb.append(entries[entry * stride + 1])
                rgb.append(entries[entry * stride + 2])
            }
            return rgb
        }
    }

    /// Expands packed 1-, 2- or 4-bit samples (most significant bits first, each row starting
    /// on a byte boundary) to one byte per sample, mapped through `transform`.
    private static func unpackSubByteRows(
        _ packed: [UInt8], width: Int, height: Int, rowBytes: Int, depth: Int, transform: (UInt8) -> UInt8
    ) -> [UInt8] {
        let mask = UInt8((1 << depth) - 1)
        let perByte = 8 / depth
        return [UInt8](unsafeUninitializedCapacity: width * height) { output, initialized in
            packed.withUnsafeBufferPointer { input in
                for row in 0..<height {
                    let rowStart = row * rowBytes
                    let outputStart = row * width
                    for x in 0..<width {
                        let byte = input[rowStart + x / perByte]
                        let shift = 8 - depth * (x % perByte + 1)
                        output[outputStart + x] = transform((byte >> UInt8(shift)) & mask)
                    }
                }
            }
            initialized = width * height
        }
    }

    /// Keeps the most significant byte of every host-endian 16-bit sample, as Pillow's
    /// RGB;16B and RGBA;16B unpackers do.
    private static func highBytes(_ raw: [UInt8]) -> [UInt8] {
        let count = raw.count / 2
        return [UInt8](unsafeUninitializedCapacity: count) { output, initialized in
            raw.withUnsafeBytes { input in
                for index in 0..<count {
                    output[index] = UInt8(input.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self) >> 8)
                }
            }
            initialized = count
        }
    }

    /// 16-bit grey+alpha to 8-bit RGBA (grey replicated), Pillow's LA;16B unpacker.
    private static func expandGrayAlpha16(_ raw: [UInt8]) -> [UInt8] {
        let pixelCount = raw.count / 4
        return [UInt8](unsafeUninitializedCapacity: pixelCount * 4) { output, initialized in
            raw.withUnsafeBytes { input in
                for pixel in 0..<pixelCount {
                    let gray = UInt8(input.loadUnaligned(fromByteOffset: pixel * 4, as: UInt16.self) >> 8)
                    let alpha = UInt8(input.loadUnaligned(fromByteOffset: pixel * 4 + 2, as: UInt16.self) >> 8)
                    output[pixel * 4] = gray
                    output[pixel * 4 + 1] = gray
                    output[pixel * 4 + 2] = gray
                    output[pixel * 4 + 3] = alpha
                }
            }
            initialized = pixelCount * 4
        }
    }

    private static func check(_ status: Int32, limits: ImageLimits) throws(ImageDecodeError) {
        guard status != 0 else { return }
        throw error(for: status, limits: limits)
    }

    private static func error(for status: Int32, limits: ImageLimits) -> ImageDecodeError {
        let message = String(cString: spng_strerror(status))
        switch status {
        case SPNG_IO_EOF.rawValue, Int32(SPNG_EOF.rawValue), Int32(SPNG_EIDAT_TOO_SHORT.rawValue):
            return .truncated(format: .png)
        case Int32(SPNG_ECHUNK_CRC.rawValue):
            return .checksumMismatch(format: .png, detail: "a chunk's CRC-32 does not match its data")
        case Int32(SPNG_EZLIB.rawValue):
            return .corrupt(format: .png, detail: "the compressed image data is invalid or fails its Adler-32 check")
        case Int32(SPNG_EWIDTH.rawValue), Int32(SPNG_EHEIGHT.rawValue):
            return .invalidDimensions(format: .png, detail: message)
        case Int32(SPNG_ECHUNK_LIMITS.rawValue), Int32(SPNG_EMEM.rawValue):
            return .metadataTooLarge(limit: limits.maxMetadataBytes)
        case Int32(SPNG_ECHUNK_UNKNOWN_CRITICAL.rawValue):
            return .unsupportedFeature(format: .png, detail: message)
        default:
            return .corrupt(format: .png, detail: message)
        }
    }
}

import CTurboJPEG

/// JPEG decoding through libjpeg-turbo's TurboJPEG API, configured as Pillow configures
/// libjpeg: the accurate integer DCT (`JDCT_ISLOW`) and fancy upsampling of subsampled
/// chroma, at full size. Modes follow Pillow's JpegImagePlugin: one component is `L`, three
/// are `RGB`, four are `CMYK` in Adobe's inverted polarity, which Pillow always assumes.
enum JPEGDecoder {
    static func decode(_ bytes: UnsafeRawBufferPointer, limits: ImageLimits) throws(ImageDecodeError) -> DecodedImage {
        guard let handle = tjInitDecompress() else {
            throw .decoderFailure(format: .jpeg, detail: "could not allocate a TurboJPEG decompressor")
        }
        defer { tjDestroy(handle) }
        let source = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let sourceSize = UInt(bytes.count)

        var width: Int32 = 0
        var height: Int32 = 0
        var subsampling: Int32 = 0
        var colorspace: Int32 = 0
        if tjDecompressHeader3(handle, source, sourceSize, &width, &height, &subsampling, &colorspace) != 0 {
            throw error(message: lastMessage(handle))
        }
        guard width > 0, height > 0 else {
            // libjpeg reports no size when the data ended (or an EOI came) before any frame.
            throw .corrupt(format: .jpeg, detail: "the file ends before a frame header (SOF) declares the image size")
        }
        try ImageDecoder.checkPixelCount(width: Int(width), height: Int(height), limits: limits)

        let (pixelFormat, mode) = outputLayout(colorspace: colorspace)
        let sampleCount = Int(width) * Int(height) * mode.channels
        // TJFLAG_LIMITSCANS refuses progressive files with more than 500 scans, a known way to
        // make a small file cost minutes of CPU.
        let flags = TJFLAG_ACCURATEDCT | TJFLAG_LIMITSCANS
        var status: Int32 = 0
        var samples = [UInt8](unsafeUninitializedCapacity: sampleCount) { buffer, initialized in
            status = tjDecompress2(handle, source, sourceSize, buffer.baseAddress, width, 0, height, pixelFormat, flags)
            // TurboJPEG fills every row, even after a recoverable warning; after a fatal error
            // the buffer is discarded below.
            initialized = sampleCount
        }
        if status != 0 {
            let message = lastMessage(handle)
            // libjpeg recovers from most corrupt-data warnings the way Pillow (which ignores
            // warnings) does, but a file that ends early is refused like Pillow refuses it.
            if tjGetErrorCode(handle) != Int32(TJERR_WARNING.rawValue) || message.contains("Premature end of JPEG file") {
                throw error(message: message)
            }
        }
        if mode == .cmyk {
            // Pillow unpacks CMYK JPEGs with its `CMYK;I` raw mode: Adobe writes inverted ink.
            samples.withUnsafeMutableBufferPointer { buffer in
                for index in buffer.indices { buffer[index] = 255 &- buffer[index] }
            }
        }
        return DecodedImage(
            validatedWidth: Int(width), height: Int(height), mode: mode,
            samples: .uint8(samples), palette: [], format: .jpeg
        )
    }

    private static func outputLayout(colorspace: Int32) -> (pixelFormat: Int32, mode: PixelMode) {
        switch colorspace {
        case Int32(TJCS_GRAY.rawValue):
            (Int32(TJPF_GRAY.rawValue), .gray)
        case Int32(TJCS_CMYK.rawValue), Int32(TJCS_YCCK.rawValue):
            (Int32(TJPF_CMYK.rawValue), .cmyk)
        default:
            (Int32(TJPF_RGB.rawValue), .rgb)
        }
    }

    private static func lastMessage(_ handle: tjhandle) -> String {
        guard let message = tjGetErrorStr2(handle) else { return "unknown error" }
        let text = String(cString: message)
        // TurboJPEG prefixes libjpeg's message with the API function's name.
        if let separator = text.firstRange(of: "(): ") {
            return String(text[separator.upperBound...])
        }
        return text
    }

    /// Classifies libjpeg's message (jerror.h) into the error a sender can act on.
    private static func error(message: String) -> ImageDecodeError {
        if message.contains("Premature end") {
            return .truncated(format: .jpeg)
        }
        if message.contains("Empty JPEG image") || message.contains("Maximum supported image dimension")
            || message.contains("Image too big") {
            return .invalidDimensions(format: .jpeg, detail: message)
        }
        let unsupported = [
            "Unsupported JPEG data precision", "Unsupported JPEG process", "not implemented",
            "more than 500 scans", "Could not determine",
        ]
        if unsupported.contains(where: { message.contains($0) }) {
            return .unsupportedFeature(format: .jpeg, detail: message)
        }
        return .corrupt(format: .jpeg, detail: message)
    }
}

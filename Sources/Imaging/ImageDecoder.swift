/// Turns encoded bytes into a `DecodedImage`, refusing hostile input with a typed error.
public enum ImageDecoder {
    /// Decodes a PNG or JPEG file, recognised by its signature.
    ///
    /// Limits are enforced in order of cost: the encoded size before parsing, the declared
    /// pixel count right after the header and before any pixel buffer is allocated, and the
    /// metadata budget while chunks are read.
    public static func decode(_ bytes: [UInt8], limits: ImageLimits = ImageLimits()) throws(ImageDecodeError) -> DecodedImage {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(ImageDecodeError) in try decode(buffer, limits: limits) }
        }
        return try result.get()
    }

    /// Decodes a PNG or JPEG file held in memory the caller owns; see `decode(_:limits:)`.
    public static func decode(_ bytes: UnsafeRawBufferPointer, limits: ImageLimits = ImageLimits()) throws(ImageDecodeError) -> DecodedImage {
        guard !bytes.isEmpty else { throw .empty }
        guard bytes.count <= limits.maxEncodedBytes else {
            throw .encodedTooLarge(bytes: bytes.count, limit: limits.maxEncodedBytes)
        }
        switch ImageFormat.sniff(bytes) {
        case .png:
            return try PNGDecoder.decode(bytes, limits: limits)
        case .jpeg:
            return try JPEGDecoder.decode(bytes, limits: limits)
        case nil:
            throw .unsupportedFormat(detected: ImageFormat.nameOfUnsupportedFormat(bytes))
        }
    }

    /// Refuses dimensions whose product exceeds the pixel limit (or overflows).
    static func checkPixelCount(width: Int, height: Int, limits: ImageLimits) throws(ImageDecodeError) {
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        if overflow || pixels > limits.maxPixels {
            throw .tooManyPixels(width: width, height: height, limit: limits.maxPixels)
        }
    }
}

/// An encoded image format, recognised from the leading bytes of a file.
public enum ImageFormat: String, Sendable, CaseIterable {
    case png = "PNG"
    case jpeg = "JPEG"

    /// The format the bytes start with, or `nil` when they are neither PNG nor JPEG.
    ///
    /// File names and declared content types are never trusted: only the signature counts.
    public static func sniff(_ bytes: UnsafeRawBufferPointer) -> ImageFormat? {
        if bytes.starts(with: pngSignature) { return .png }
        // ISO/IEC 10918-1 B.1.1.2: SOI (FF D8) followed by the first marker's FF.
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        return nil
    }

    /// The name of a well-known format that is not supported, for a clearer error message.
    static func nameOfUnsupportedFormat(_ bytes: UnsafeRawBufferPointer) -> String? {
        let known: [(signature: [UInt8], name: String)] = [
            (Array("GIF8".utf8), "GIF"),
            (Array("BM".utf8), "BMP"),
            ([0x49, 0x49, 0x2A, 0x00], "TIFF"),
            ([0x4D, 0x4D, 0x00, 0x2A], "TIFF"),
            ([0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20], "JPEG 2000"),
            ([0xFF, 0x4F, 0xFF, 0x51], "JPEG 2000"),
            (Array("%PDF".utf8), "PDF"),
            (Array("DICM".utf8), "DICOM"),
        ]
        for (signature, name) in known where bytes.starts(with: signature) {
            return name
        }
        if bytes.count >= 12, bytes.starts(with: Array("RIFF".utf8)),
           Array(bytes[8..<12]) == Array("WEBP".utf8) {
            return "WebP"
        }
        // DICOM files carry their magic after a 128-byte preamble.
        if bytes.count >= 132, Array(bytes[128..<132]) == Array("DICM".utf8) {
            return "DICOM"
        }
        if bytes.count >= 12, Array(bytes[4..<8]) == Array("ftyp".utf8) {
            return "HEIF/AVIF"
        }
        return nil
    }

    /// PNG specification §5.2: the eight-byte signature.
    static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
}

import Foundation

/// `manifest.json`: everything about a stored set except its image bytes, with the size
/// and SHA-256 of every image so that a scan can tell a complete set from a damaged one.
struct PromptSetManifest: Codable {
    /// The format this code writes; format 2 added calibration images and the manual
    /// threshold. Formats this code does not know are refused rather than guessed at.
    static let currentFormat = 2
    /// The formats this code reads.
    static let readableFormats = 1...2
    /// The largest manifest read back; real ones take about 200 bytes per image.
    static let maxBytes = 16 << 20

    struct Image: Codable {
        /// Path relative to the set's directory: `images/<index>.<extension>`, or
        /// `calibration/<index>.<extension>` for a calibration image.
        var file: String
        var bytes: Int
        var sha256: String
        var mediaType: String

        enum CodingKeys: String, CodingKey {
            case file, bytes, sha256
            case mediaType = "media_type"
        }
    }

    var format: Int
    var id: String
    var className: String
    /// ISO-8601 in UTC, whole seconds.
    var createdAt: String
    var images: [Image]
    /// Extra normal images for calibration (format 2; absent means none).
    var calibrationImages: [Image]?
    /// The operator's threshold (format 2; absent means none).
    var manualThreshold: Float?

    enum CodingKeys: String, CodingKey {
        case format, id
        case className = "class_name"
        case createdAt = "created_at"
        case images
        case calibrationImages = "calibration_images"
        case manualThreshold = "manual_threshold"
    }

    /// The manifest of `record`.
    init(_ record: PromptSetRecord) {
        format = Self.currentFormat
        id = record.id.hex
        className = record.className
        createdAt = record.createdAt.formatted(.iso8601)
        images = record.images.enumerated().map { index, image in
            Image(
                file: Self.imagePath(index: index, mediaType: image.mediaType),
                bytes: image.byteCount, sha256: image.sha256, mediaType: image.mediaType.rawValue)
        }
        calibrationImages = record.calibrationImages.enumerated().map { index, image in
            Image(
                file: Self.calibrationImagePath(index: index, mediaType: image.mediaType),
                bytes: image.byteCount, sha256: image.sha256, mediaType: image.mediaType.rawValue)
        }
        manualThreshold = record.manualThreshold
    }

    /// The only path an image may have inside its set's directory. Deriving it rather than
    /// trusting the manifest keeps a damaged or hostile manifest from naming a file
    /// elsewhere.
    static func imagePath(index: Int, mediaType: PromptImageMediaType) -> String {
        "images/\(index).\(mediaType.fileExtension)"
    }

    /// The only path calibration image `index` may have.
    static func calibrationImagePath(index: Int, mediaType: PromptImageMediaType) -> String {
        "calibration/\(index).\(mediaType.fileExtension)"
    }

    func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // Encoding plain strings and integers cannot fail.
        return Array(try! encoder.encode(self)) + [UInt8(ascii: "\n")]
    }

    /// Parses and checks a manifest read from the directory named `directoryName`; the
    /// thrown string says what is wrong with it. The images themselves are checked by the
    /// caller against the record returned.
    static func decodeRecord(_ bytes: [UInt8], directoryName: String) throws(StoreDefect) -> PromptSetRecord {
        let manifest: PromptSetManifest
        do {
            manifest = try JSONDecoder().decode(PromptSetManifest.self, from: Data(bytes))
        } catch {
            throw StoreDefect("manifest.json is not a valid manifest (\(error))")
        }
        guard readableFormats.contains(manifest.format) else {
            throw StoreDefect("manifest.json has format \(manifest.format); this version reads formats \(readableFormats.lowerBound) to \(readableFormats.upperBound)")
        }
        guard let id = PromptSetID(manifest.id), manifest.id == directoryName else {
            throw StoreDefect("manifest.json names id '\(manifest.id)' but lies in directory '\(directoryName)'")
        }
        guard let createdAt = try? Date(manifest.createdAt, strategy: .iso8601) else {
            throw StoreDefect("manifest.json has an unreadable created_at '\(manifest.createdAt)'")
        }
        guard !manifest.images.isEmpty else { throw StoreDefect("manifest.json lists no images") }
        let images = try described(manifest.images, kind: "image", path: imagePath)
        let calibrationImages = try described(manifest.calibrationImages ?? [], kind: "calibration image", path: calibrationImagePath)
        if let threshold = manifest.manualThreshold, !(0...1).contains(threshold) {
            throw StoreDefect("manifest.json has a manual threshold \(threshold) outside [0, 1]")
        }
        return PromptSetRecord(
            id: id, className: manifest.className, createdAt: createdAt, images: images,
            calibrationImages: calibrationImages, manualThreshold: manifest.manualThreshold)
    }

    /// Checks each listed image's path, size and checksum entries.
    private static func described(
        _ listed: [Image], kind: String, path: (Int, PromptImageMediaType) -> String
    ) throws(StoreDefect) -> [StoredPromptImage] {
        var images: [StoredPromptImage] = []
        for (index, image) in listed.enumerated() {
            guard let mediaType = PromptImageMediaType(rawValue: image.mediaType) else {
                throw StoreDefect("\(kind) \(index) has an unknown media type '\(image.mediaType)'")
            }
            let expectedPath = path(index, mediaType)
            guard image.file == expectedPath else {
                throw StoreDefect("\(kind) \(index) is listed as '\(image.file)'; only '\(expectedPath)' is allowed")
            }
            guard image.bytes > 0, image.sha256.utf8.count == 64 else {
                throw StoreDefect("\(kind) \(index) has an invalid size or checksum entry")
            }
            images.append(StoredPromptImage(byteCount: image.bytes, sha256: image.sha256, mediaType: mediaType))
        }
        return images
    }
}

import Foundation

/// `manifest.json`: everything about a stored set except its image bytes, with the size
/// and SHA-256 of every image so that a scan can tell a complete set from a damaged one.
struct PromptSetManifest: Codable {
    /// The format this code writes; others are refused rather than guessed at.
    static let currentFormat = 1
    /// The largest manifest read back; real ones take about 200 bytes per image.
    static let maxBytes = 16 << 20

    struct Image: Codable {
        /// Path relative to the set's directory: `images/<index>.<extension>`.
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

    enum CodingKeys: String, CodingKey {
        case format, id
        case className = "class_name"
        case createdAt = "created_at"
        case images
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
    }

    /// The only path an image may have inside its set's directory. Deriving it rather than
    /// trusting the manifest keeps a damaged or hostile manifest from naming a file
    /// elsewhere.
    static func imagePath(index: Int, mediaType: PromptImageMediaType) -> String {
        "images/\(index).\(mediaType.fileExtension)"
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
        guard manifest.format == currentFormat else {
            throw StoreDefect("manifest.json has format \(manifest.format); this version reads format \(currentFormat)")
        }
        guard let id = PromptSetID(manifest.id), manifest.id == directoryName else {
            throw StoreDefect("manifest.json names id '\(manifest.id)' but lies in directory '\(directoryName)'")
        }
        guard let createdAt = try? Date(manifest.createdAt, strategy: .iso8601) else {
            throw StoreDefect("manifest.json has an unreadable created_at '\(manifest.createdAt)'")
        }
        guard !manifest.images.isEmpty else { throw StoreDefect("manifest.json lists no images") }
        var images: [StoredPromptImage] = []
        for (index, image) in manifest.images.enumerated() {
            guard let mediaType = PromptImageMediaType(rawValue: image.mediaType) else {
                throw StoreDefect("image \(index) has an unknown media type '\(image.mediaType)'")
            }
            let expectedPath = imagePath(index: index, mediaType: mediaType)
            guard image.file == expectedPath else {
                throw StoreDefect("image \(index) is listed as '\(image.file)'; only '\(expectedPath)' is allowed")
            }
            guard image.bytes > 0, image.sha256.utf8.count == 64 else {
                throw StoreDefect("image \(index) has an invalid size or checksum entry")
            }
            images.append(StoredPromptImage(byteCount: image.bytes, sha256: image.sha256, mediaType: mediaType))
        }
        return PromptSetRecord(id: id, className: manifest.className, createdAt: createdAt, images: images)
    }
}

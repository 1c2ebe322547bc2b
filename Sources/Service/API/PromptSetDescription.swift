import Foundation

/// The body of `GET /prompts/{id}`: the set and each of its stored images.
struct PromptSetDescription: Encodable {
    /// One stored image.
    struct Image: Encodable {
        let bytes: Int
        let sha256: String
        let mediaType: String

        enum CodingKeys: String, CodingKey {
            case bytes, sha256
            case mediaType = "media_type"
        }
    }

    let id: String
    let className: String
    let shots: Int
    let createdAt: Date
    let images: [Image]

    enum CodingKeys: String, CodingKey {
        case id, shots, images
        case className = "class_name", createdAt = "created_at"
    }

    init(_ record: PromptSetRecord) {
        id = record.id.hex
        className = record.className
        shots = record.shots
        createdAt = record.createdAt
        images = record.images.map {
            Image(bytes: $0.byteCount, sha256: $0.sha256, mediaType: $0.mediaType.rawValue)
        }
    }
}

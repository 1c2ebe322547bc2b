import InCTRL
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

        init(_ stored: StoredPromptImage) {
            bytes = stored.byteCount
            sha256 = stored.sha256
            mediaType = stored.mediaType.rawValue
        }
    }

    let id: String
    let className: String
    let shots: Int
    let createdAt: Date
    let images: [Image]
    let calibrationImages: [Image]
    let threshold: PromptSetThreshold
    let manualThreshold: Float?
    let calibration: CalibrationBody

    enum CodingKeys: String, CodingKey {
        case id, shots, images, threshold, calibration
        case className = "class_name", createdAt = "created_at", calibrationImages = "calibration_images"
        case manualThreshold = "manual_threshold"
    }

    init(_ entry: PromptSetRegistry.Summary, margin: Double) {
        let record = entry.record
        id = record.id.hex
        className = record.className
        shots = record.shots
        createdAt = record.createdAt
        images = record.images.map(Image.init)
        calibrationImages = record.calibrationImages.map(Image.init)
        threshold = PromptSetThreshold(ThresholdChoice(summary: entry, margin: margin))
        manualThreshold = record.manualThreshold
        calibration = CalibrationBody(entry.calibration, margin: margin)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(className, forKey: .className)
        try container.encode(shots, forKey: .shots)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(images, forKey: .images)
        try container.encode(calibrationImages, forKey: .calibrationImages)
        try container.encode(threshold, forKey: .threshold)
        try container.encode(manualThreshold, forKey: .manualThreshold)
        try container.encode(calibration, forKey: .calibration)
    }
}

import Foundation
import InCTRL

/// A prompt set as `POST /prompts` answers it and `GET /prompts` lists it.
struct PromptSetSummary: Encodable {
    let id: String
    let className: String
    let shots: Int
    let createdAt: Date
    /// The model the set was registered with (registration responses only).
    let model: ModelInfo?

    enum CodingKeys: String, CodingKey {
        case id, shots, model
        case className = "class_name", createdAt = "created_at"
    }

    init(_ record: PromptSetRecord, model: ModelInfo?) {
        id = record.id.hex
        className = record.className
        shots = record.shots
        createdAt = record.createdAt
        self.model = model
    }
}

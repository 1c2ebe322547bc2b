import Foundation
import InCTRL

/// A prompt set as `POST /prompts` answers it and `GET /prompts` lists it: its identity, its
/// effective threshold, and (when registering) its calibration and the model.
struct PromptSetSummary: Encodable {
    let id: String
    let className: String
    let shots: Int
    let createdAt: Date
    let threshold: PromptSetThreshold
    /// The normal scores and the threshold they give (registration responses only).
    let calibration: CalibrationBody?
    /// The model the set was registered with (registration responses only).
    let model: ModelInfo?

    enum CodingKeys: String, CodingKey {
        case id, shots, model, threshold, calibration
        case className = "class_name", createdAt = "created_at"
    }

    init(_ entry: PromptSetRegistry.Summary, margin: Double, model: ModelInfo? = nil, includeCalibration: Bool = false) {
        id = entry.record.id.hex
        className = entry.record.className
        shots = entry.record.shots
        createdAt = entry.record.createdAt
        threshold = PromptSetThreshold(ThresholdChoice(summary: entry, margin: margin))
        calibration = includeCalibration ? CalibrationBody(entry.calibration, margin: margin) : nil
        self.model = model
    }
}

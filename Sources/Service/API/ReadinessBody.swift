import InCTRL

/// The body of `GET /readyz` once ready.
struct ReadinessBody: Encodable {
    let status: String
    let model: ModelInfo
    let promptSets: Int

    enum CodingKeys: String, CodingKey {
        case status, model
        case promptSets = "prompt_sets"
    }
}

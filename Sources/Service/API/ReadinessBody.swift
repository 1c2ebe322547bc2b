import InCTRL

/// The body of `GET /readyz` once ready.
struct ReadinessBody: Encodable {
    let status: String
    let model: ModelInfo
    let promptSets: Int
    /// `api_keys` when keys are required, else `none`.
    let authentication: String
    /// Set when the server listens beyond loopback without keys.
    let warning: String?

    enum CodingKeys: String, CodingKey {
        case status, model, authentication, warning
        case promptSets = "prompt_sets"
    }
}

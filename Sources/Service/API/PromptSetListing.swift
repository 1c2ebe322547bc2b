/// The body of `GET /prompts`.
struct PromptSetListing: Encodable {
    let promptSets: [PromptSetSummary]

    enum CodingKeys: String, CodingKey {
        case promptSets = "prompt_sets"
    }
}

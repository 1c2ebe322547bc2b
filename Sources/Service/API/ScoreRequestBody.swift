/// The JSON body of `POST /score`: `{"prompt_set": "<id>", "image": "<base64>"}`.
struct ScoreRequestBody: Decodable {
    /// The prompt set's id; may instead come from the `prompt_set` query parameter.
    let promptSet: String?
    /// The image as standard base64; required.
    let image: String?

    enum CodingKeys: String, CodingKey {
        case promptSet = "prompt_set"
        case image
    }
}

/// The JSON body of `POST /prompts`: `{"class_name": "…", "images": ["<base64>", …]}`.
struct PromptSetRegistrationBody: Decodable {
    /// The class name; the default (`object`) when absent or null.
    let className: String?
    /// The images as standard base64; required.
    let images: [String]?

    enum CodingKeys: String, CodingKey {
        case className = "class_name"
        case images
    }
}

/// A JSON body holding images: `{"images": ["<base64>", …]}` (`POST /prompts/{id}/calibration`).
struct ImageListBody: Decodable {
    let images: [String]?
}

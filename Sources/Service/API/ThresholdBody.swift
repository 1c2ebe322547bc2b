/// The JSON body of `PUT /prompts/{id}/threshold`: `{"threshold": 0.42}`.
struct ThresholdBody: Decodable {
    let threshold: Double?
}

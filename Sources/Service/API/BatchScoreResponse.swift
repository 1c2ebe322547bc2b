/// The body of `POST /score/batch`: one item per image, in input order.
struct BatchScoreResponse: Encodable {
    let results: [BatchItem]
}

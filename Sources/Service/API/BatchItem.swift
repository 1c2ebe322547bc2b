/// One image's place in a batch answer: its score response, or the error that image alone
/// met (it did not decode, or was too large).
enum BatchItem: Encodable {
    case success(ScoreResponse)
    case failure(APIError)

    func encode(to encoder: any Encoder) throws {
        switch self {
        case let .success(response): try response.encode(to: encoder)
        case let .failure(error): try ErrorBody(error).encode(to: encoder)
        }
    }
}

/// The JSON body of every error: `{"error": {"code": "snake_case", "message": "A sentence."}}`.
struct ErrorBody: Encodable {
    /// The error itself.
    struct Detail: Encodable {
        let code: String
        let message: String
    }

    let error: Detail

    init(_ error: APIError) {
        self.error = Detail(code: error.code.rawValue, message: error.message)
    }
}

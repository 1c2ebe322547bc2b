import HTTP1
/// An error the API answers a request with: an HTTP status and the JSON body
/// `{"error":{"code":"snake_case","message":"A sentence."}}`.
///
/// Codes are stable: clients may switch on them, so a code is never renamed or reused.
/// Messages are for people and may change. Errors of the HTTP protocol itself (malformed
/// requests, header limits, timeouts) are answered by the HTTP1 server in the same shape,
/// with its own codes.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The stable, machine-readable kinds of error, each with its HTTP status.
    public enum Code: String, Sendable, CaseIterable {
        /// The body is not valid JSON, or not the JSON object the route expects (400).
        case invalidJSON = "invalid_json"
        /// An image given as base64 text does not decode (400).
        case invalidBase64 = "invalid_base64"
        /// A multipart/form-data body is malformed (400).
        case invalidMultipart = "invalid_multipart"
        /// A required field, form part or query parameter is absent (400).
        case missingField = "missing_field"
        /// A field is present but its value is unusable (400).
        case invalidField = "invalid_field"
        /// A threshold is not a number from 0 to 1 (400).
        case invalidThreshold = "invalid_threshold"
        /// The route needs an API key and none, or an unknown one, was sent (401, with
        /// `WWW-Authenticate`).
        case unauthorized = "unauthorized"
        /// The API key is valid but lacks the scope the route needs (403).
        case forbidden = "forbidden"
        /// No prompt set has the given id (404).
        case unknownPromptSet = "unknown_prompt_set"
        /// Nothing is served at the path (404).
        case notFound = "not_found"
        /// The path exists but not for this method; the `Allow` header lists those it has (405).
        case methodNotAllowed = "method_not_allowed"
        /// The store holds as many prompt sets as it may; delete one first (409).
        case tooManyPromptSets = "too_many_prompt_sets"
        /// The body is larger than the server accepts (413); the code the HTTP server uses
        /// when it refuses such a body from the request head.
        case bodyTooLarge = "body_too_large"
        /// A prompt set has more images than the server accepts (413).
        case tooManyImages = "too_many_images"
        /// An image is larger, in bytes or in pixels, than the server accepts (413).
        case imageTooLarge = "image_too_large"
        /// The body's Content-Type is not one the route reads (415).
        case unsupportedMediaType = "unsupported_media_type"
        /// An image is not a PNG or JPEG that decodes (422).
        case undecodableImage = "undecodable_image"
        /// The queue in front of the model is full; retry after `Retry-After` seconds (429).
        case queueFull = "queue_full"
        /// This client sent more requests than its rate allows; retry after `Retry-After` (429).
        case rateLimited = "rate_limited"
        /// Something failed inside the server; the message says no more than that (500).
        case internalError = "internal_error"
        /// The model is still loading, or the prompt-set store is not open yet (503).
        case notReady = "not_ready"
        /// The server is shutting down and takes no new work (503).
        case shuttingDown = "shutting_down"
        /// The prompt-set database cannot be reached; nothing was changed, so the request
        /// may be retried after `Retry-After` seconds (503).
        case storeUnavailable = "store_unavailable"

        /// The HTTP status code this error is answered with.
        public var status: Int {
            switch self {
            case .invalidJSON, .invalidBase64, .invalidMultipart, .missingField, .invalidField, .invalidThreshold: 400
            case .unauthorized: 401
            case .forbidden: 403
            case .unknownPromptSet, .notFound: 404
            case .methodNotAllowed: 405
            case .tooManyPromptSets: 409
            case .bodyTooLarge, .tooManyImages, .imageTooLarge: 413
            case .unsupportedMediaType: 415
            case .undecodableImage: 422
            case .queueFull, .rateLimited: 429
            case .internalError: 500
            case .notReady, .shuttingDown, .storeUnavailable: 503
            }
        }
    }

    /// What kind of error this is.
    public var code: Code
    /// A sentence telling the client what was wrong and, where it can, what to change.
    public var message: String
    /// Seconds the client should wait before retrying, sent as `Retry-After` (RFC 9110
    /// §10.2.3); set for `queueFull` and `storeUnavailable`, and useful with `notReady`.
    public var retryAfterSeconds: Int?
    /// The methods the path allows, sent as `Allow` with `methodNotAllowed` (RFC 9110 §15.5.6).
    public var allowedMethods: [String]
    /// The challenge sent as `WWW-Authenticate` with `unauthorized` and `forbidden`
    /// (RFC 9110 §11.6.1, RFC 6750 §3).
    public var authenticate: String?

    /// An error of kind `code` explained by `message`.
    public init(_ code: Code, _ message: String, retryAfterSeconds: Int? = nil, allowedMethods: [String] = [], authenticate: String? = nil) {
        self.code = code
        self.message = message
        self.retryAfterSeconds = retryAfterSeconds
        self.allowedMethods = allowedMethods
        self.authenticate = authenticate
    }

    /// The HTTP status code to answer with.
    public var status: Int { code.status }

    /// The response headers this error needs besides the usual ones: its content type, and
    /// `Retry-After` or `Allow` when they apply.
    public var headers: [(name: String, value: String)] {
        var headers = [(name: "Content-Type", value: "application/json")]
        if let retryAfterSeconds { headers.append((name: "Retry-After", value: String(max(0, retryAfterSeconds)))) }
        if !allowedMethods.isEmpty { headers.append((name: "Allow", value: allowedMethods.joined(separator: ", "))) }
        if let authenticate { headers.append((name: "WWW-Authenticate", value: authenticate)) }
        return headers
    }

    /// The JSON body, `{"error":{"code":"…","message":"…"}}`, as UTF-8.
    public var body: [UInt8] {
        // Two strings always encode.
        try! APIJSON.encode(ErrorBody(self))
    }

    /// The response that answers with this error.
    public var response: HTTPResponse {
        var fields = HTTPHeaders()
        for header in headers { fields.set(name: header.name, value: header.value) }
        return HTTPResponse(status: HTTPStatus(code: status), headers: fields, body: body)
    }

    public var description: String {
        "\(status) \(code.rawValue): \(message)"
    }
}

extension APIError {
    /// The queue in front of the model is full.
    public static func queueFull(retryAfterSeconds: Int) -> APIError {
        APIError(
            .queueFull, "The server is busy: too many requests are waiting for the model. Retry in \(retryAfterSeconds) s.",
            retryAfterSeconds: retryAfterSeconds)
    }

    /// The model or store is not ready yet.
    public static func notReady(retryAfterSeconds: Int? = nil) -> APIError {
        APIError(.notReady, "The service is starting: the model or the prompt-set store is not ready yet.", retryAfterSeconds: retryAfterSeconds)
    }

    /// No prompt set has the id `id`.
    public static func unknownPromptSet(_ id: String) -> APIError {
        APIError(.unknownPromptSet, "No prompt set has the id \(id); register one with POST /prompts, or list them with GET /prompts.")
    }

    /// The required `field` is absent.
    public static func missingField(_ field: String) -> APIError {
        APIError(.missingField, "The request needs the field '\(field)'.")
    }

    /// The path exists, but not for the request's method.
    public static func methodNotAllowed(_ method: String, allowed: [String]) -> APIError {
        APIError(
            .methodNotAllowed, "\(method) is not allowed here; use \(allowed.joined(separator: " or ")).",
            allowedMethods: allowed)
    }

    /// Something failed inside the server. The message deliberately says nothing more: the
    /// details belong in the log, under the same request id.
    public static let internalError = APIError(.internalError, "The server failed to handle the request; the request id identifies it in the server's log.")

    /// The answer to a multipart body the parser refused.
    public init(_ error: MultipartError) {
        let message = Self.sentence(error.description)
        switch error {
        case .notFormData: self.init(.unsupportedMediaType, message)
        case .bodyTooLarge: self.init(.bodyTooLarge, message)
        default: self.init(.invalidMultipart, message)
        }
    }

    /// `clause` as a sentence: capitalised, ending in a full stop.
    static func sentence(_ clause: String) -> String {
        guard let first = clause.first else { return clause }
        let capitalised = first.uppercased() + clause.dropFirst()
        return capitalised.hasSuffix(".") ? capitalised : capitalised + "."
    }
}

import HTTP1
import InCTRL

/// `POST /prompts`, `GET /prompts`, `GET /prompts/{id}`, `DELETE /prompts/{id}`.
extension InCTRLService {
    /// The default class name when a registration gives none.
    static let defaultClassName = "object"

    /// Registers a prompt set; the registry reserves, computes and commits it.
    func registerPromptSet(_ request: HTTPRequest) async throws -> HTTPResponse {
        try refuseIfShuttingDown()
        let (className, images) = try promptSetBody(request)
        let registration = try await registry.register(className: className, images: images)
        let model = try await registry.model()
        return try APIJSON.response(
            PromptSetSummary(registration.record, model: model.info), status: registration.created ? .created : .ok)
    }

    /// `(class name, images)` from a multipart or JSON body.
    private func promptSetBody(_ request: HTTPRequest) throws -> (String, [[UInt8]]) {
        switch RequestBody.mediaType(of: request) {
        case "multipart/form-data":
            var className = Self.defaultClassName
            var images: [[UInt8]] = []
            for part in try RequestBody.multipart(request, maxBodyBytes: configuration.maxBodyBytes) {
                switch part.name {
                case "images", "image": images.append(Array(part.body))
                case "class_name": className = try RequestBody.text(part)
                default: throw APIError(.invalidField, "Unexpected form field '\(part.name)'; send 'images' parts and an optional 'class_name'.")
                }
            }
            return (className, images)
        case "application/json":
            let body = try APIJSON.decode(PromptSetRegistrationBody.self, from: request.body)
            guard let encoded = body.images else { throw APIError.missingField("images") }
            let images = try encoded.enumerated().map { index, text throws(APIError) in
                try RequestBody.base64(text, field: "images[\(index)]")
            }
            return (body.className ?? Self.defaultClassName, images)
        default:
            throw APIError(.unsupportedMediaType, "Send the prompt set as multipart/form-data or application/json.")
        }
    }

    func listPromptSets() async throws -> HTTPResponse {
        try APIJSON.response(PromptSetListing(promptSets: try await registry.records().map { PromptSetSummary($0, model: nil) }))
    }

    func describePromptSet(_ request: HTTPRequest) async throws -> HTTPResponse {
        try APIJSON.response(PromptSetDescription(try await registry.record(try promptSetID(request.pathParameters["id"] ?? ""))))
    }

    func deletePromptSet(_ request: HTTPRequest) async throws -> HTTPResponse {
        try await registry.delete(try promptSetID(request.pathParameters["id"] ?? ""))
        return HTTPResponse(status: .noContent)
    }

    /// A prompt-set id from the client; anything malformed is simply unknown.
    func promptSetID(_ text: String) throws(APIError) -> PromptSetID {
        guard let id = PromptSetID(text) else { throw APIError.unknownPromptSet(text.count <= 64 ? text : String(text.prefix(64)) + "…") }
        return id
    }
}

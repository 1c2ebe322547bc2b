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
        if registration.created {
            audit("prompt_set.registered", ["id": registration.record.id.hex, "class_name": className, "shots": "\(registration.record.shots)"])
        }
        let model = try await registry.model()
        return try APIJSON.response(
            PromptSetSummary(registration.entry.summary, margin: configuration.thresholdMargin, model: model.info, includeCalibration: true),
            status: registration.created ? .created : .ok)
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
            return (body.className ?? Self.defaultClassName, try RequestBody.base64Images(encoded))
        default:
            throw APIError(.unsupportedMediaType, "Send the prompt set as multipart/form-data or application/json.")
        }
    }

    func listPromptSets() async throws -> HTTPResponse {
        let sets = try await registry.summaries().map { PromptSetSummary($0, margin: configuration.thresholdMargin) }
        return try APIJSON.response(PromptSetListing(promptSets: sets))
    }

    func describePromptSet(_ request: HTTPRequest) async throws -> HTTPResponse {
        let summary = try await registry.summary(try promptSetID(request.pathParameters["id"] ?? ""))
        return try APIJSON.response(PromptSetDescription(summary, margin: configuration.thresholdMargin))
    }

    /// `POST /prompts/{id}/calibration`: extra normal images (multipart `images` parts or
    /// JSON `{"images": [base64, …]}`), scored against the set; answers the new calibration.
    func calibratePromptSet(_ request: HTTPRequest) async throws -> HTTPResponse {
        try refuseIfShuttingDown()
        let id = try promptSetID(request.pathParameters["id"] ?? "")
        let images: [[UInt8]]
        switch RequestBody.mediaType(of: request) {
        case "multipart/form-data":
            images = try RequestBody.multipart(request, maxBodyBytes: configuration.maxBodyBytes).map { part throws(APIError) in
                guard part.name == "images" || part.name == "image" else {
                    throw APIError(.invalidField, "Unexpected form field '\(part.name)'; send 'images' parts.")
                }
                return Array(part.body)
            }
        case "application/json":
            guard let encoded = try APIJSON.decode(ImageListBody.self, from: request.body).images else { throw APIError.missingField("images") }
            images = try RequestBody.base64Images(encoded)
        default:
            throw APIError(.unsupportedMediaType, "Send the calibration images as multipart/form-data or application/json.")
        }
        let entry = try await registry.addCalibrationImages(images, to: id)
        audit("prompt_set.calibrated", [
            "id": id.hex, "added": "\(images.count)",
            "threshold": entry.calibration.imageThreshold(margin: configuration.thresholdMargin).map { "\($0)" } ?? "none",
        ])
        return try APIJSON.response(CalibrationBody(entry.calibration, margin: configuration.thresholdMargin))
    }

    /// `PUT /prompts/{id}/threshold` with `{"threshold": x}`, 0 ≤ x ≤ 1: the set's manual
    /// threshold; answers the set.
    func setThreshold(_ request: HTTPRequest) async throws -> HTTPResponse {
        let id = try promptSetID(request.pathParameters["id"] ?? "")
        guard RequestBody.mediaType(of: request) == "application/json" else {
            throw APIError(.unsupportedMediaType, "Send the threshold as application/json: {\"threshold\": 0.5}.")
        }
        guard let threshold = try APIJSON.decode(ThresholdBody.self, from: request.body).threshold else {
            throw APIError.missingField("threshold")
        }
        let entry = try await registry.setManualThreshold(Float(threshold), of: id)
        audit("prompt_set.threshold_set", ["id": id.hex, "threshold": "\(threshold)"])
        return try APIJSON.response(PromptSetDescription(entry.summary, margin: configuration.thresholdMargin))
    }

    /// `DELETE /prompts/{id}/threshold`: back to the calibrated threshold; answers the set.
    func clearThreshold(_ request: HTTPRequest) async throws -> HTTPResponse {
        let id = try promptSetID(request.pathParameters["id"] ?? "")
        let entry = try await registry.setManualThreshold(nil, of: id)
        audit("prompt_set.threshold_removed", ["id": id.hex])
        return try APIJSON.response(PromptSetDescription(entry.summary, margin: configuration.thresholdMargin))
    }

    func deletePromptSet(_ request: HTTPRequest) async throws -> HTTPResponse {
        let id = try promptSetID(request.pathParameters["id"] ?? "")
        try await registry.delete(id)
        audit("prompt_set.deleted", ["id": id.hex])
        return HTTPResponse(status: .noContent)
    }

    /// A prompt-set id from the client; anything malformed is simply unknown.
    func promptSetID(_ text: String) throws(APIError) -> PromptSetID {
        guard let id = PromptSetID(text) else { throw APIError.unknownPromptSet(text.count <= 64 ? text : String(text.prefix(64)) + "…") }
        return id
    }
}

import Dispatch
import Foundation
import HTTP1
import InCTRL
import Tensor

/// `POST /prompts`, `GET /prompts`, `GET /prompts/{id}`, `DELETE /prompts/{id}`.
extension InCTRLService {
    /// The default class name when a registration gives none.
    static let defaultClassName = "object"

    /// The body of `POST /prompts`.
    struct PromptSetSummary: Encodable {
        let id: String
        let className: String
        let shots: Int
        let createdAt: Date
        let model: ModelInfo?

        enum CodingKeys: String, CodingKey {
            case id, shots, model
            case className = "class_name", createdAt = "created_at"
        }

        init(_ record: PromptSetRecord, model: ModelInfo?) {
            id = record.id.hex
            className = record.className
            shots = record.shots
            createdAt = record.createdAt
            self.model = model
        }
    }

    /// Registers a prompt set: every image must decode; features are computed before the
    /// set is stored, so a set on disk always has a model behind it.
    func registerPromptSet(_ request: HTTPRequest) async throws -> HTTPResponse {
        let (className, images) = try promptSetBody(request)
        guard !images.isEmpty else { throw APIError.missingField("images") }
        guard images.count <= configuration.maxImagesPerSet else {
            throw APIError(.tooManyImages, "A prompt set may have at most \(configuration.maxImagesPerSet) images; this one has \(images.count).")
        }
        for (index, image) in images.enumerated() where image.count > configuration.maxImageBytes {
            throw APIError(.imageTooLarge, "Image \(index) is \(image.count) bytes; the limit is \(configuration.maxImageBytes).")
        }
        let (model, cache) = try await state.ready()
        let id = PromptSetID(className: className, images: images)
        if await state.entry(id) != nil, let record = try? store.record(id) {
            return try Self.json(PromptSetSummary(record, model: model.info), status: .ok)
        }

        let tensors = try await offload { [pipeline] in try images.map { try pipeline.prepare($0).tensor } }
        let prior = try await textPrior(className, actor: model, cache: cache)
        let (features, timing) = try await model.promptSetFeatures(images: tensors)
        metrics.recordQueueWait(.seconds(timing.queue))
        metrics.recordInference(.promptSet, duration: .seconds(timing.compute))

        let (record, created) = try store.save(className: className, images: images)
        try? cache.store(features, for: record.id)
        await state.insert(record.id, features: features, prior: prior)
        metrics.setPromptSetCount(store.count)
        logger.info(
            created ? "registered prompt set" : "prompt set already registered",
            metadata: ["id": "\(record.id.hex)", "class_name": "\(className)", "shots": "\(record.shots)"])
        return try Self.json(PromptSetSummary(record, model: model.info), status: created ? .created : .ok)
    }

    /// `(class name, images)` from a multipart or JSON body.
    private func promptSetBody(_ request: HTTPRequest) throws -> (String, [[UInt8]]) {
        var className = Self.defaultClassName
        var images: [[UInt8]] = []
        switch RequestBody.mediaType(of: request) {
        case "multipart/form-data":
            for part in try RequestBody.multipart(request, maxBodyBytes: configuration.maxBodyBytes) {
                switch part.name {
                case "images", "image": images.append(Array(part.body))
                case "class_name": className = try RequestBody.text(part)
                default: throw APIError(.invalidField, "Unexpected form field '\(part.name)'; send 'images' parts and an optional 'class_name'.")
                }
            }
        case "application/json":
            let object = try RequestBody.jsonObject(request.body)
            className = try RequestBody.string(object, "class_name") ?? className
            guard let list = object["images"] else { throw APIError.missingField("images") }
            guard let encoded = list as? [Any] else { throw APIError(.invalidField, "The field 'images' must be an array of base64 strings.") }
            for (index, item) in encoded.enumerated() {
                guard let text = item as? String else { throw APIError(.invalidField, "images[\(index)] must be a base64 string.") }
                images.append(try RequestBody.base64(text, field: "images[\(index)]"))
            }
        default:
            throw APIError(.unsupportedMediaType, "Send the prompt set as multipart/form-data or application/json.")
        }
        guard !className.isEmpty, className.utf8.count <= 256 else {
            throw APIError(.invalidField, "The class name must be 1 to 256 bytes long.")
        }
        return (className, images)
    }

    func listPromptSets() throws -> HTTPResponse {
        struct Listing: Encodable {
            let promptSets: [PromptSetSummary]
            enum CodingKeys: String, CodingKey { case promptSets = "prompt_sets" }
        }
        return try Self.json(Listing(promptSets: try store.list().map { PromptSetSummary($0, model: nil) }))
    }

    func describePromptSet(_ request: HTTPRequest) throws -> HTTPResponse {
        struct Description: Encodable {
            struct Image: Encodable {
                let bytes: Int
                let sha256: String
                let mediaType: String
                enum CodingKeys: String, CodingKey {
                    case bytes, sha256
                    case mediaType = "media_type"
                }
            }
            let id: String
            let className: String
            let shots: Int
            let createdAt: Date
            let images: [Image]
            enum CodingKeys: String, CodingKey {
                case id, shots, images
                case className = "class_name", createdAt = "created_at"
            }
        }
        let record = try store.record(try promptSetID(request.pathParameters["id"] ?? ""))
        return try Self.json(Description(
            id: record.id.hex, className: record.className, shots: record.shots, createdAt: record.createdAt,
            images: record.images.map {
                .init(bytes: $0.byteCount, sha256: $0.sha256, mediaType: $0.mediaType == .jpeg ? "image/jpeg" : "image/png")
            }))
    }

    func deletePromptSet(_ request: HTTPRequest) async throws -> HTTPResponse {
        let id = try promptSetID(request.pathParameters["id"] ?? "")
        guard try store.delete(id) else { throw APIError.unknownPromptSet(id.hex) }
        await state.remove(id)
        if let cache = await state.cache { try? cache.removeFeatures(for: id) }
        metrics.setPromptSetCount(store.count)
        logger.info("deleted prompt set", metadata: ["id": "\(id.hex)"])
        return HTTPResponse(status: .noContent)
    }

    /// A prompt-set id from the client; anything malformed is simply unknown.
    func promptSetID(_ text: String) throws(APIError) -> PromptSetID {
        guard let id = PromptSetID(text) else { throw APIError.unknownPromptSet(text.count <= 64 ? text : String(text.prefix(64)) + "…") }
        return id
    }
}

/// Runs CPU-bound `work` (image decoding) on a global queue, off the HTTP event loops and
/// Swift's cooperative threads.
func offload<Result: Sendable>(_ work: @escaping @Sendable () throws -> Result) async throws -> Result {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global(qos: .userInitiated).async {
            continuation.resume(with: Swift.Result { try work() })
        }
    }
}

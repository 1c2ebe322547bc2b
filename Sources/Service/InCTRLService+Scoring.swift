import Dispatch
import HTTP1
import InCTRL

/// `POST /score`.
extension InCTRLService {
    func score(_ request: HTTPRequest) async throws -> HTTPResponse {
        let started = DispatchTime.now()
        try refuseIfShuttingDown()
        let (promptSetText, image) = try scoreBody(request)
        guard let promptSetText else { throw APIError.missingField("prompt_set") }
        let model = try await registry.model()
        let entry = try await registry.entry(try promptSetID(promptSetText))
        guard !image.isEmpty else { throw APIError.missingField("image") }
        guard image.count <= configuration.maxImageBytes else {
            throw APIError(.imageTooLarge, "The image is \(image.count) bytes; the limit is \(configuration.maxImageBytes).")
        }

        // Refuse at once when the queue is full, before spending a core on decoding an image
        // that would only be turned away (the admission itself happens in the model actor).
        guard model.queueDepth < model.capacity else { throw ModelActor.AdmissionError.queueFull(capacity: model.capacity) }
        let prepared = try await offload { [pipeline] in try pipeline.prepare(image) }
        let (result, timing) = try await model.score(image: prepared.tensor, promptSet: entry.features, textPrior: entry.prior)
        metrics.recordQueueWait(.seconds(timing.queue))
        metrics.recordInference(.score, duration: .seconds(timing.compute))
        let response = ScoreResponse(
            promptSet: entry.record.id.hex, result: result, gridSize: model.model.config.vision.gridSize, model: model.info,
            timing: .init(
                decode: prepared.decodeSeconds, preprocess: prepared.preprocessSeconds, queue: timing.queue,
                forward: timing.compute, total: Duration.since(started).inSeconds))
        return try APIJSON.response(response)
    }

    /// `(prompt set id, image bytes)` from a raw image, multipart or JSON body; the id may
    /// also come from the `prompt_set` query parameter (the only place for it with a raw
    /// image body).
    private func scoreBody(_ request: HTTPRequest) throws -> (String?, [UInt8]) {
        var promptSet = request.queryValue("prompt_set")
        switch RequestBody.mediaType(of: request) {
        case "image/png", "image/jpeg":
            return (promptSet, request.body)
        case "multipart/form-data":
            var image: [UInt8]?
            for part in try RequestBody.multipart(request, maxBodyBytes: configuration.maxBodyBytes) {
                switch part.name {
                case "image": image = Array(part.body)
                case "prompt_set": promptSet = try RequestBody.text(part)
                default: throw APIError(.invalidField, "Unexpected form field '\(part.name)'; send 'image' and 'prompt_set'.")
                }
            }
            guard let image else { throw APIError.missingField("image") }
            return (promptSet, image)
        case "application/json":
            let body = try APIJSON.decode(ScoreRequestBody.self, from: request.body)
            guard let encoded = body.image else { throw APIError.missingField("image") }
            return (body.promptSet ?? promptSet, try RequestBody.base64(encoded, field: "image"))
        default:
            throw APIError(.unsupportedMediaType, "Send the image as image/png, image/jpeg, multipart/form-data or application/json.")
        }
    }
}

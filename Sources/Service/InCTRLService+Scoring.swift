import Dispatch
import Foundation
import HTTP1
import Imaging
import InCTRL

/// `POST /score` and `POST /score/batch`.
extension InCTRLService {
    func score(_ request: HTTPRequest) async throws -> HTTPResponse {
        let started = DispatchTime.now()
        try refuseIfShuttingDown()
        let (promptSetText, image) = try scoreBody(request)
        guard let promptSetText else { throw APIError.missingField("prompt_set") }
        let requestedThreshold = try threshold(in: request)
        let wantsPNG = Self.acceptsOnlyPNG(request)
        var include = try ScorePictures.Include(parameter: request.queryValue("include"))
        if wantsPNG { include.insert(.heatmap) }
        let model = try await registry.model()
        let entry = try await registry.entry(try promptSetID(promptSetText))
        guard !image.isEmpty else { throw APIError.missingField("image") }
        guard image.count <= configuration.maxImageBytes else {
            throw APIError(.imageTooLarge, "The image is \(image.count) bytes; the limit is \(configuration.maxImageBytes).")
        }

        // Refuse at once when the queue is full, counting the images being decoded, before
        // spending a core on decoding an image that would only be turned away (the admission
        // itself happens in the model actor).
        guard let places = decodingQueries.reserve(1, in: model) else {
            throw ModelActor.AdmissionError.queueFull(capacity: model.capacity)
        }
        let prepared = try await offload { [pipeline] in try pipeline.prepare(image) }
        places.release()
        let (result, timing) = try await model.score(image: prepared.tensor, promptSet: entry.features, textPrior: entry.prior)
        metrics.recordQueueWait(.seconds(timing.queue))
        metrics.recordInference(.score, duration: .seconds(timing.compute))
        let (response, pictures) = try await scoreResponse(
            result, image: prepared.decoded, entry: entry, model: model, requestedThreshold: requestedThreshold, include: include,
            timing: .init(
                decode: prepared.decodeSeconds, preprocess: prepared.preprocessSeconds, queue: timing.queue,
                forward: timing.compute, total: Duration.since(started).inSeconds))
        if wantsPNG, let png = pictures.heatmapPNG {
            return HTTPResponse(status: .ok, headers: Self.decisionHeaders(response), body: png)
        }
        return try APIJSON.response(response.including(pictures))
    }

    /// Whether the client asked for the heat-map picture itself: `Accept` names
    /// `image/png` and not JSON.
    static func acceptsOnlyPNG(_ request: HTTPRequest) -> Bool {
        guard let accept = request.headers["Accept"]?.lowercased() else { return false }
        let types = accept.split(separator: ",").map { $0.split(separator: ";")[0].trimmingCharacters(in: .whitespaces) }
        return types.contains("image/png") && !types.contains("application/json")
    }

    /// The score and decision as headers of a picture response.
    static func decisionHeaders(_ response: ScoreResponse) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.set(name: "Content-Type", value: "image/png")
        headers.set(name: "Inctrl-Score", value: "\(response.score)")
        headers.set(name: "Inctrl-Anomalous", value: response.decision.anomalous.map { $0 ? "true" : "false" } ?? "none")
        headers.set(name: "Inctrl-Threshold", value: response.decision.threshold.map { "\($0)" } ?? "none")
        headers.set(name: "Inctrl-Decision-Source", value: response.decision.source.rawValue)
        return headers
    }

    /// `POST /score/batch?prompt_set=ID`: multipart `images` parts, scored in one piece of
    /// model work that holds a queue place per image (429 whole when they do not fit). Each
    /// result is what `POST /score` answers for that image; an image that does not decode
    /// gets its own error in its place.
    func scoreBatch(_ request: HTTPRequest) async throws -> HTTPResponse {
        let started = DispatchTime.now()
        try refuseIfShuttingDown()
        guard RequestBody.mediaType(of: request) == "multipart/form-data" else {
            throw APIError(.unsupportedMediaType, "Send the images as multipart/form-data 'images' parts.")
        }
        var promptSetText = request.queryValue("prompt_set")
        var images: [[UInt8]] = []
        for part in try RequestBody.multipart(request, maxBodyBytes: configuration.maxBodyBytes) {
            switch part.name {
            case "images", "image": images.append(Array(part.body))
            case "prompt_set": promptSetText = try RequestBody.text(part)
            default: throw APIError(.invalidField, "Unexpected form field '\(part.name)'; send 'images' parts and 'prompt_set'.")
            }
        }
        guard let promptSetText else { throw APIError.missingField("prompt_set") }
        guard !images.isEmpty else { throw APIError.missingField("images") }
        // An empty part is a malformed request, not an image that failed to decode.
        if let empty = images.firstIndex(where: \.isEmpty) {
            throw APIError(.missingField, "Image part \(empty) is empty; every 'images' part needs the bytes of a PNG or JPEG.")
        }
        guard images.count <= configuration.maxBatchImages else {
            throw APIError(.tooManyImages, "A batch may hold at most \(configuration.maxBatchImages) images; this one has \(images.count).")
        }
        let requestedThreshold = try threshold(in: request)
        let model = try await registry.model()
        let entry = try await registry.entry(try promptSetID(promptSetText))
        guard let places = decodingQueries.reserve(images.count, in: model) else {
            throw ModelActor.AdmissionError.queueFull(capacity: model.capacity)
        }

        let maxImageBytes = configuration.maxImageBytes
        let prepared = try await offload { [pipeline, images] in
            images.map { image -> Result<ImagePipeline.Prepared, APIError> in
                guard image.count <= maxImageBytes else {
                    return .failure(APIError(.imageTooLarge, "The image is \(image.count) bytes; the limit is \(maxImageBytes)."))
                }
                return Result { try pipeline.prepare(image) }.mapError { self.apiError($0) }
            }
        }
        places.release()
        let decoded = prepared.compactMap { try? $0.get() }
        var results: [InCTRLScore] = []
        var timing: ModelActor.Timing?
        if !decoded.isEmpty {
            let scored = try await model.score(images: decoded.map(\.tensor), promptSet: entry.features, textPrior: entry.prior)
            (results, timing) = (scored.result, scored.timing)
            metrics.recordQueueWait(.seconds(scored.timing.queue))
            metrics.recordInference(.score, duration: .seconds(scored.timing.compute))
        }
        var next = results.makeIterator()
        let total = Duration.since(started).inSeconds
        var items: [BatchItem] = []
        for item in prepared {
            switch item {
            case let .failure(error):
                items.append(.failure(error))
            case let .success(image):
                let (response, pictures) = try await scoreResponse(
                    next.next()!, image: image.decoded, entry: entry, model: model, requestedThreshold: requestedThreshold, include: [],
                    timing: .init(
                        decode: image.decodeSeconds, preprocess: image.preprocessSeconds, queue: timing?.queue ?? 0,
                        forward: timing?.compute ?? 0, total: total))
                items.append(.success(response.including(pictures)))
            }
        }
        return try APIJSON.response(BatchScoreResponse(results: items))
    }

    /// The response for one scored image: its decision (counted in the metrics), its regions
    /// and the pictures asked for (drawn off the event loops).
    func scoreResponse(
        _ result: InCTRLScore, image: DecodedImage, entry: PromptSetRegistry.Entry, model: ModelActor, requestedThreshold: Float?,
        include: ScorePictures.Include, timing: ScoreResponse.TimingMilliseconds
    ) async throws -> (ScoreResponse, ScorePictures) {
        let choice = ThresholdChoice(entry: entry, requested: requestedThreshold, margin: configuration.thresholdMargin)
        let decision = Decision(score: result.score, threshold: choice)
        metrics.recordDecision(decision.anomalous)
        let gridSize = model.model.config.vision.gridSize
        let pixelThreshold = entry.calibration.pixelThreshold(margin: configuration.thresholdMargin)
        let pictures = try await offload {
            try ScorePictures(result: result, image: image, gridSize: gridSize, pixelThreshold: pixelThreshold, include: include)
        }
        let response = ScoreResponse(
            promptSet: entry.record.id.hex, result: result, gridSize: gridSize, model: model.info, timing: timing, decision: decision)
        return (response, pictures)
    }

    /// The `threshold` query parameter: a number from 0 to 1, or absent.
    func threshold(in request: HTTPRequest) throws(APIError) -> Float? {
        guard let text = request.queryValue("threshold") else { return nil }
        guard let value = Double(text), value.isFinite, (0...1).contains(value) else {
            throw APIError(.invalidThreshold, "The threshold parameter must be a number from 0 to 1, not '\(text.prefix(64))'.")
        }
        return Float(value)
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

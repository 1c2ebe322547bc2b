import ArgumentParser
import CLIP
import Dispatch
import Foundation
import InCTRL
import Tensor
import Service

/// `inctrl score`: score images against a prompt set given on the command line.
struct ScoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score images against normal prompt images; prints one JSON object per query, one per line."
    )

    @Option(help: "Model bundle directory.")
    var model: String

    @Option(help: "Class name for the text prior (e.g. metal_nut).")
    var className: String = "object"

    @Option(name: .customLong("prompt"), help: "A normal image of the product; repeat for each shot.")
    var prompts: [String]

    @Option(help: "fp32 (the reference's arithmetic) or bf16 (faster where the CPU multiplies bf16 natively, about 3 significant digits per matmul).")
    var precision = WeightPrecision.fp32

    @Option(help: "Decide with this threshold (0 to 1) instead of the one calibrated from the prompts.")
    var threshold: Double?

    @Option(help: "The calibrated threshold is the largest leave-one-out score of the prompts plus this many standard deviations.")
    var thresholdMargin = 1.0

    @Option(help: "Write the heat-map as PNG: to this file for one image, or as <name>.heatmap.png into this directory for several.")
    var heatmap: String?

    @Argument(help: "Images to score (PNG or JPEG).")
    var queries: [String]

    func validate() throws {
        guard !prompts.isEmpty else { throw ValidationError("give at least one --prompt image") }
        guard !queries.isEmpty else { throw ValidationError("give at least one image to score") }
        if let threshold, !(0...1).contains(threshold) { throw ValidationError("--threshold must be a number from 0 to 1") }
        guard thresholdMargin >= 0, thresholdMargin.isFinite else { throw ValidationError("--threshold-margin must be at least 0") }
    }

    func run() async throws {
        let bundle = try ModelBundle.open(URL(fileURLWithPath: model))
        let loaded = try InCTRLModel(bundle: bundle, precision: precision)
        if loaded.info.demo {
            printError("warning: \(loaded.info.name) is a demo bundle with random weights; scores are not meaningful")
        }
        let actor = ModelActor(model: loaded, capacity: 1)
        let pipeline = ImagePipeline()

        let promptBytes = try prompts.map { try readImage($0) }
        let promptSetID = PromptSetID(className: className, images: promptBytes)
        let promptImages = try zip(prompts, promptBytes).map { path, bytes in try prepare(bytes, path: path, pipeline).tensor }
        let prior = try await actor.textPrior(className: className).result
        let (promptSet, leaveOneOut) = try await actor.promptSetFeatures(images: promptImages, leaveOneOutWith: prior).result
        let calibration = Calibration(
            shots: leaveOneOut.map { Calibration.Observation(score: $0.score, residualMap: $0.residualMap) }, extra: [])
        let decisionThreshold = threshold.map(Float.init) ?? calibration.imageThreshold(margin: thresholdMargin)
        let pixelThreshold = calibration.pixelThreshold(margin: thresholdMargin)
        if let heatmap, queries.count > 1 {
            try FileManager.default.createDirectory(atPath: heatmap, withIntermediateDirectories: true)
        }

        for path in queries {
            let start = DispatchTime.now()
            let prepared = try prepare(try readImage(path), path: path, pipeline)
            let (result, timing) = try await actor.score(image: prepared.tensor, promptSet: promptSet, textPrior: prior)
            let total = Duration.since(start).inSeconds
            let response = ScoreResponse(
                file: path, promptSet: promptSetID.hex, result: result, gridSize: loaded.config.vision.gridSize,
                model: loaded.info,
                timing: .init(
                    decode: prepared.decodeSeconds, preprocess: prepared.preprocessSeconds, queue: timing.queue,
                    forward: timing.compute, total: total),
                decision: Decision(score: result.score, threshold: decisionThreshold, source: threshold == nil ? .calibrated : .request))
            let pictures = try ScorePictures(
                result: result, image: prepared.decoded, gridSize: loaded.config.vision.gridSize, pixelThreshold: pixelThreshold,
                include: heatmap == nil ? [] : .heatmap)
            if let heatmap, let png = pictures.heatmapPNG {
                let file = queries.count == 1
                    ? heatmap
                    : URL(fileURLWithPath: heatmap).appendingPathComponent(URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent + ".heatmap.png").path
                try Data(png).write(to: URL(fileURLWithPath: file))
            }
            var line = response.including(pictures)
            line.heatmapPNG = nil
            print(String(decoding: try APIJSON.encode(line), as: UTF8.self))
        }
    }

    private func readImage(_ path: String) throws -> [UInt8] {
        do {
            return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw ValidationError("cannot read \(path): \(error.localizedDescription)")
        }
    }

    private func prepare(_ bytes: [UInt8], path: String, _ pipeline: ImagePipeline) throws -> ImagePipeline.Prepared {
        do {
            return try pipeline.prepare(bytes)
        } catch {
            throw ValidationError("\(path): \(error)")
        }
    }
}

import Foundation
import Tensor

/// The evaluation protocol of docs/MODEL.md §6: per category and per seed, draw K prompt images
/// at random from `train/good`, score every test image, and report AUROC and AUPRC; then the
/// mean and standard deviation over seeds. Beside them, the decision the service would make:
/// each draw's threshold calibrated from its prompts alone (leave-one-out, ``Calibration``),
/// and precision, recall, F1 and false-positive rate at it.
///
/// Each test image goes through the vision tower once and is scored against every seed's
/// prompt set, so more seeds cost only the small matching work.
public struct Evaluator: Sendable {
    /// One category's result.
    public struct CategoryResult: Sendable {
        /// One test image as the first draw scored it.
        public struct Sample: Sendable {
            public let url: URL
            public let anomalous: Bool
            public let score: Float
            public let residualMap: [Float]
        }

        public let category: String
        public let className: String
        public let shots: Int
        public let testImages: Int
        public let anomalous: Int
        /// Per seed, in seed order.
        public let auroc: [Double]
        public let auprc: [Double]
        /// Per seed: the threshold calibrated from that draw's prompts (nil for one shot),
        /// and the decisions at it.
        public let thresholds: [Float?]
        public let atThreshold: [DetectionMetrics.AtThreshold?]
        /// Every test image as the first draw scored it, in test order.
        public let samples: [Sample]

        /// Mean and standard deviation over the seeds that have a threshold.
        public func decisionStatistic(_ metric: (DetectionMetrics.AtThreshold) -> Double) -> (mean: Double, std: Double)? {
            let values = atThreshold.compactMap { $0.map(metric) }
            return values.isEmpty ? nil : (Statistics.mean(values), Statistics.standardDeviation(values))
        }

        public var aurocMean: Double { Statistics.mean(auroc) }
        public var aurocStd: Double { Statistics.standardDeviation(auroc) }
        public var auprcMean: Double { Statistics.mean(auprc) }
        public var auprcStd: Double { Statistics.standardDeviation(auprc) }
    }

    /// Why a category could not be evaluated.
    public enum EvaluationError: Error, CustomStringConvertible {
        case tooFewPrompts(category: String, available: Int, shots: Int)
        case image(path: String, reason: String)
        case singleClass(category: String)

        public var description: String {
            switch self {
            case let .tooFewPrompts(category, available, shots):
                "\(category): \(shots) shots requested but train/good has \(available) images"
            case let .image(path, reason): "\(path): \(reason)"
            case let .singleClass(category): "\(category): test/ needs both good and anomalous images"
            }
        }
    }

    let model: InCTRLModel
    let pipeline: ImagePipeline
    /// The calibration rule's margin, as the service's `threshold_margin`.
    let thresholdMargin: Double

    /// An evaluator over a loaded model.
    public init(model: InCTRLModel, pipeline: ImagePipeline = ImagePipeline(), thresholdMargin: Double = 1) {
        self.model = model
        self.pipeline = pipeline
        self.thresholdMargin = thresholdMargin
    }

    /// The prompt files drawn for `seed`: K distinct files, a seeded shuffle's prefix.
    public static func promptDraw(from files: [URL], shots: Int, seed: UInt64) -> [URL] {
        var generator = SeededGenerator(seed: seed)
        return Array(files.shuffled(using: &generator).prefix(shots))
    }

    /// Evaluates one category. `limit` caps the test images (taken evenly across the
    /// sorted list) for quick runs; `progress` is called after each test image.
    public func evaluate(
        _ category: EvaluationDataset.Category, className: String?, shots: Int, seeds: [UInt64],
        limit: Int? = nil, progress: (Int, Int) -> Void = { _, _ in }
    ) throws -> CategoryResult {
        guard category.trainGood.count >= shots else {
            throw EvaluationError.tooFewPrompts(category: category.name, available: category.trainGood.count, shots: shots)
        }
        let name = className ?? category.name
        let prior = try model.textPrior(className: name)
        var promptSets: [PromptSetFeatures] = []
        var thresholds: [Float?] = []
        for seed in seeds {
            let files = Self.promptDraw(from: category.trainGood, shots: shots, seed: seed)
            let (features, leaveOneOut) = try model.promptSetFeatures(images: try files.map(load), leaveOneOutWith: prior)
            promptSets.append(features)
            let calibration = Calibration(
                shots: leaveOneOut.map { Calibration.Observation(score: $0.score, residualMap: $0.residualMap) }, extra: [])
            thresholds.append(calibration.imageThreshold(margin: thresholdMargin))
        }

        var tests = category.test
        if let limit, limit < tests.count {
            tests = (0..<limit).map { tests[$0 * tests.count / limit] }
        }
        let labels = tests.map(\.anomalous)
        guard labels.contains(true), labels.contains(false) else { throw EvaluationError.singleClass(category: category.name) }

        var scores = [[Float]](repeating: [], count: seeds.count)
        var samples: [CategoryResult.Sample] = []
        for (index, test) in tests.enumerated() {
            let features = try model.imageFeatures(try load(test.url))
            for (seedIndex, promptSet) in promptSets.enumerated() {
                let result = try model.score(features: features, promptSet: promptSet, textPrior: prior)
                scores[seedIndex].append(result.score)
                if seedIndex == 0 {
                    samples.append(.init(url: test.url, anomalous: test.anomalous, score: result.score, residualMap: result.residualMap))
                }
            }
            progress(index + 1, tests.count)
        }
        return CategoryResult(
            category: category.name, className: name, shots: shots, testImages: tests.count,
            anomalous: labels.filter { $0 }.count,
            auroc: scores.map { DetectionMetrics.auroc(scores: $0, anomalous: labels)! },
            auprc: scores.map { DetectionMetrics.averagePrecision(scores: $0, anomalous: labels)! },
            thresholds: thresholds,
            atThreshold: zip(scores, thresholds).map { seedScores, threshold in
                threshold.map { DetectionMetrics.atThreshold($0, scores: seedScores, anomalous: labels) }
            },
            samples: samples)
    }

    private func load(_ url: URL) throws -> Tensor {
        let bytes: [UInt8]
        do {
            bytes = [UInt8](try Data(contentsOf: url))
        } catch {
            throw EvaluationError.image(path: url.path, reason: "\(error.localizedDescription)")
        }
        do {
            return try pipeline.prepare(bytes).tensor
        } catch {
            throw EvaluationError.image(path: url.path, reason: "\(error)")
        }
    }
}

/// Mean and standard deviation as numpy computes them by default (population, ddof = 0).
public enum Statistics {
    public static func mean(_ values: [Double]) -> Double {
        values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
    }

    public static func standardDeviation(_ values: [Double]) -> Double {
        let average = mean(values)
        return (values.map { ($0 - average) * ($0 - average) }.reduce(0, +) / Double(values.count)).squareRoot()
    }
}

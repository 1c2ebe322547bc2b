import ArgumentParser
import CLIP
import Foundation
import InCTRL
import Tensor

/// `inctrl eval`: AUROC and AUPRC per category of an MVTec-style tree (docs/MODEL.md §6).
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate on an MVTec-style tree: per-category AUROC and AUPRC, mean ± std over prompt draws.",
        discussion: """
            ROOT/<category>/train/good holds the normal images prompts are drawn from;
            ROOT/<category>/test/good the normal test images; every other ROOT/<category>/test/<defect>
            folder anomalous ones. Prints a table, then the same results as one JSON object.
            """
    )

    @Option(help: "Model bundle directory.")
    var model: String

    @Option(help: "Root of the MVTec-style tree.")
    var data: String

    @Option(help: "Prompt images per draw (K).")
    var shots: Int = 4

    @Option(help: "Number of random prompt draws (seeds 0..<N).")
    var seeds: Int = 3

    @Option(help: "Class name for the text prior (default: each category's folder name).")
    var className: String?

    @Option(help: "Only these categories (comma-separated).")
    var categories: String?

    @Option(help: "At most this many test images per category, spread evenly (for quick runs).")
    var limit: Int?

    @Option(help: "fp32 or bf16 (where the CPU multiplies bf16 natively).")
    var precision = WeightPrecision.fp32

    @Option(help: "Each draw's threshold is its prompts' largest leave-one-out score plus this many standard deviations, as the service's threshold_margin.")
    var thresholdMargin = 1.0

    @Option(help: "Also write a self-contained HTML report (curves, score histograms, worst cases with heat-maps) to this file.")
    var report: String?

    func validate() throws {
        guard shots >= 1 else { throw ValidationError("--shots must be at least 1") }
        guard seeds >= 1 else { throw ValidationError("--seeds must be at least 1") }
        if let limit, limit < 2 { throw ValidationError("--limit must be at least 2") }
        guard thresholdMargin >= 0, thresholdMargin.isFinite else { throw ValidationError("--threshold-margin must be at least 0") }
    }

    func run() throws {
        let bundle = try ModelBundle.open(URL(fileURLWithPath: model))
        let loaded = try InCTRLModel(bundle: bundle, precision: precision)
        if loaded.info.demo {
            printError("warning: \(loaded.info.name) is a demo bundle with random weights; these numbers mean nothing")
        }
        let only = categories.map { Set($0.split(separator: ",").map(String.init)) }
        let dataset = try EvaluationDataset(root: URL(fileURLWithPath: data), only: only)
        let evaluator = Evaluator(model: loaded, thresholdMargin: thresholdMargin)
        var results: [Evaluator.CategoryResult] = []
        let progress = ProgressBar()
        for category in dataset.categories {
            let result = try evaluator.evaluate(
                category, className: className, shots: shots, seeds: (0..<seeds).map(UInt64.init), limit: limit
            ) { done, total in
                progress.update(label: category.name, done: done, total: total)
            }
            progress.finish()
            results.append(result)
        }
        print(table(results))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let summary = EvalReport(
            model: loaded.info, shots: shots, seeds: seeds, thresholdMargin: thresholdMargin, categories: results.map(EvalReport.Row.init))
        print(String(decoding: try encoder.encode(summary), as: UTF8.self))
        if let report {
            let page = EvalReportPage(model: loaded.info, shots: shots, seeds: seeds, thresholdMargin: thresholdMargin, results: results)
            try Data(try page.html().utf8).write(to: URL(fileURLWithPath: report))
            printError("wrote \(report)")
        }
    }

    private func table(_ results: [Evaluator.CategoryResult]) -> String {
        func cell(_ mean: Double, _ std: Double) -> String { String(format: "%5.1f ± %4.1f", 100 * mean, 100 * std) }
        func decision(_ result: Evaluator.CategoryResult, _ metric: (DetectionMetrics.AtThreshold) -> Double) -> String {
            result.decisionStatistic(metric).map { cell($0.mean, $0.std) } ?? "      -     "
        }
        var lines = ["category              images  anomalous   AUROC (%)     AUPRC (%)     at the calibrated threshold:  precision     recall        F1            FPR"]
        for result in results {
            let name = result.category.padding(toLength: 20, withPad: " ", startingAt: 0)
            lines.append(String(format: "%@ %7d %10d   ", name, result.testImages, result.anomalous)
                + cell(result.aurocMean, result.aurocStd) + "   " + cell(result.auprcMean, result.auprcStd)
                + String(repeating: " ", count: 33)
                + [decision(result, \.precision), decision(result, \.recall), decision(result, \.f1), decision(result, \.falsePositiveRate)]
                    .joined(separator: "  "))
        }
        if results.count > 1 {
            let auroc = Statistics.mean(results.map(\.aurocMean)), auprc = Statistics.mean(results.map(\.auprcMean))
            lines.append("mean".padding(toLength: 40, withPad: " ", startingAt: 0)
                + String(format: "%5.1f          %5.1f", 100 * auroc, 100 * auprc))
        }
        return lines.joined(separator: "\n")
    }
}

/// The JSON form of an evaluation.
struct EvalReport: Encodable {
    struct Row: Encodable {
        let category: String
        let className: String
        let testImages: Int
        let anomalous: Int
        let auroc: [Double]
        let auprc: [Double]
        let aurocMean: Double
        let aurocStd: Double
        let auprcMean: Double
        let auprcStd: Double
        /// Per seed: the calibrated threshold (null for one shot) and the decisions at it.
        let thresholds: [Float?]
        let atThreshold: [Decisions?]

        /// Counts and rates at one draw's threshold.
        struct Decisions: Encodable {
            let truePositives, falsePositives, trueNegatives, falseNegatives: Int
            let precision, recall, f1, falsePositiveRate: Double

            init(_ counts: DetectionMetrics.AtThreshold) {
                (truePositives, falsePositives, trueNegatives, falseNegatives) =
                    (counts.truePositives, counts.falsePositives, counts.trueNegatives, counts.falseNegatives)
                (precision, recall, f1, falsePositiveRate) = (counts.precision, counts.recall, counts.f1, counts.falsePositiveRate)
            }

            enum CodingKeys: String, CodingKey {
                case precision, recall, f1
                case truePositives = "true_positives", falsePositives = "false_positives"
                case trueNegatives = "true_negatives", falseNegatives = "false_negatives"
                case falsePositiveRate = "false_positive_rate"
            }
        }

        init(_ result: Evaluator.CategoryResult) {
            category = result.category
            className = result.className
            testImages = result.testImages
            anomalous = result.anomalous
            auroc = result.auroc
            auprc = result.auprc
            aurocMean = result.aurocMean
            aurocStd = result.aurocStd
            auprcMean = result.auprcMean
            auprcStd = result.auprcStd
            thresholds = result.thresholds
            atThreshold = result.atThreshold.map { $0.map(Decisions.init) }
        }

        enum CodingKeys: String, CodingKey {
            case category, auroc, auprc, anomalous, thresholds
            case className = "class_name", testImages = "test_images"
            case aurocMean = "auroc_mean", aurocStd = "auroc_std", auprcMean = "auprc_mean", auprcStd = "auprc_std"
            case atThreshold = "at_threshold"
        }
    }

    let model: ModelInfo
    let shots: Int
    let seeds: Int
    let thresholdMargin: Double
    let categories: [Row]

    enum CodingKeys: String, CodingKey {
        case model, shots, seeds, categories
        case thresholdMargin = "threshold_margin"
    }
}

/// Writes a line to standard error (progress and warnings stay out of the JSON on stdout).
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

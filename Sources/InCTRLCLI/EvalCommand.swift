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

    func validate() throws {
        guard shots >= 1 else { throw ValidationError("--shots must be at least 1") }
        guard seeds >= 1 else { throw ValidationError("--seeds must be at least 1") }
        if let limit, limit < 2 { throw ValidationError("--limit must be at least 2") }
    }

    func run() throws {
        let bundle = try ModelBundle.open(URL(fileURLWithPath: model))
        let loaded = try InCTRLModel(bundle: bundle, precision: precision)
        if loaded.info.demo {
            printError("warning: \(loaded.info.name) is a demo bundle with random weights; these numbers mean nothing")
        }
        let only = categories.map { Set($0.split(separator: ",").map(String.init)) }
        let dataset = try EvaluationDataset(root: URL(fileURLWithPath: data), only: only)
        let evaluator = Evaluator(model: loaded)
        var results: [Evaluator.CategoryResult] = []
        for category in dataset.categories {
            let result = try evaluator.evaluate(
                category, className: className, shots: shots, seeds: (0..<seeds).map(UInt64.init), limit: limit
            ) { done, total in
                if done % 50 == 0 || done == total { printError("\(category.name): \(done)/\(total) test images") }
            }
            results.append(result)
        }
        print(table(results))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let report = EvalReport(model: loaded.info, shots: shots, seeds: seeds, categories: results.map(EvalReport.Row.init))
        print(String(decoding: try encoder.encode(report), as: UTF8.self))
    }

    private func table(_ results: [Evaluator.CategoryResult]) -> String {
        func cell(_ mean: Double, _ std: Double) -> String { String(format: "%5.1f ± %4.1f", 100 * mean, 100 * std) }
        var lines = ["category              images  anomalous   AUROC (%)     AUPRC (%)"]
        for result in results {
            let name = result.category.padding(toLength: 20, withPad: " ", startingAt: 0)
            lines.append(String(format: "%@ %7d %10d   ", name, result.testImages, result.anomalous)
                + cell(result.aurocMean, result.aurocStd) + "   " + cell(result.auprcMean, result.auprcStd))
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
        }

        enum CodingKeys: String, CodingKey {
            case category, auroc, auprc, anomalous
            case className = "class_name", testImages = "test_images"
            case aurocMean = "auroc_mean", aurocStd = "auroc_std", auprcMean = "auprc_mean", auprcStd = "auprc_std"
        }
    }

    let model: ModelInfo
    let shots: Int
    let seeds: Int
    let categories: [Row]
}

/// Writes a line to standard error (progress and warnings stay out of the JSON on stdout).
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

import Tensor
import CLIP
import Foundation
import Testing
@testable import InCTRL

/// The evaluation harness end to end on a small MVTec-style tree of real ELPV cells.
@Suite struct EvaluatorTests {
    static let cells = InCTRLModelTests.repository.appendingPathComponent("Tests/Fixtures/imaging/inputs")

    /// ROOT/elpv/{train/good, test/good, test/crack} from the corpus's ELPV cells.
    func makeTree() throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("eval-tree-\(UUID().uuidString)")
        let functional = ["png_elpv_cell0004_functional.png", "png_elpv_cell0009_functional.png", "png_elpv_cell0011_functional.png"]
        let defective = ["png_elpv_cell0001_defective.png", "png_elpv_cell0002_defective.png", "png_elpv_cell0003_defective.png"]
        let layout: [(String, [String])] = [
            ("elpv/train/good", functional), ("elpv/test/good", Array(functional.prefix(2))),
            ("elpv/test/crack", defective), ("notes", []),
        ]
        for (folder, files) in layout {
            let directory = root.appendingPathComponent(folder)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            for file in files {
                try FileManager.default.copyItem(at: Self.cells.appendingPathComponent(file), to: directory.appendingPathComponent(file))
            }
        }
        return root
    }

    @Test func evaluatesEveryTestImageAgainstEverySeed() throws {
        let (model, _) = try InCTRLModelTests.loaded.get()
        let dataset = try EvaluationDataset(root: try makeTree())
        #expect(dataset.categories.map(\.name) == ["elpv"])
        let category = try #require(dataset.categories.first)
        #expect(category.test.count == 5 && category.test.filter(\.anomalous).count == 3)

        let result = try Evaluator(model: model).evaluate(category, className: "solar_cell", shots: 2, seeds: [0, 1, 2])
        #expect(result.auroc.count == 3 && result.auprc.count == 3)
        #expect(result.auroc.allSatisfy { (0...1).contains($0) })
        #expect(result.auprc.allSatisfy { (0...1).contains($0) })
        #expect(result.className == "solar_cell" && result.testImages == 5 && result.anomalous == 3)

        // Seed 1 recomputed by hand gives the same AUROC.
        let pipeline = ImagePipeline()
        func load(_ url: URL) throws -> Tensor { try pipeline.prepare([UInt8](try Data(contentsOf: url))).tensor }
        let prompts = Evaluator.promptDraw(from: category.trainGood, shots: 2, seed: 1)
        let promptSet = try model.promptSetFeatures(images: try prompts.map(load))
        let prior = try model.textPrior(className: "solar_cell")
        let scores = try category.test.map { try model.score(image: try load($0.url), promptSet: promptSet, textPrior: prior).score }
        #expect(DetectionMetrics.auroc(scores: scores, anomalous: category.test.map(\.anomalous)) == result.auroc[1])
    }

    @Test func promptDrawsAreReproducibleAndDistinct() throws {
        let files = (0..<20).map { URL(fileURLWithPath: "/data/train/good/\($0).png") }
        let first = Evaluator.promptDraw(from: files, shots: 4, seed: 7)
        #expect(first == Evaluator.promptDraw(from: files, shots: 4, seed: 7))
        #expect(Set(first).count == 4)
        #expect(first != Evaluator.promptDraw(from: files, shots: 4, seed: 8))
    }

    @Test func refusesTreesItCannotEvaluate() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("eval-empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        #expect(throws: EvaluationDataset.LayoutError.self) { try EvaluationDataset(root: empty) }
        #expect(throws: EvaluationDataset.LayoutError.self) { try EvaluationDataset(root: empty.appendingPathComponent("absent")) }
        let (model, _) = try InCTRLModelTests.loaded.get()
        let category = try #require(try EvaluationDataset(root: try makeTree()).categories.first)
        #expect(throws: Evaluator.EvaluationError.self) {
            try Evaluator(model: model).evaluate(category, className: nil, shots: 10, seeds: [0])
        }
    }
}

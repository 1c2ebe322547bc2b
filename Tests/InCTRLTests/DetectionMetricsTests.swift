import Foundation
import Testing
@testable import InCTRL

/// AUROC and AUPRC against scikit-learn on fixed lists (`tools/make_metrics_fixtures.py`).
@Suite struct DetectionMetricsTests {
    struct Case: Decodable {
        let name: String
        let scores: [Float]
        let labels: [Bool]
        let auroc: Double
        let averagePrecision: Double

        enum CodingKeys: String, CodingKey {
            case name, scores, labels, auroc
            case averagePrecision = "average_precision"
        }
    }

    static let cases: [Case] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/metrics/cases.json")
        return (try? JSONDecoder().decode([Case].self, from: Data(contentsOf: url))) ?? []
    }()

    @Test func fixturesLoaded() {
        #expect(Self.cases.count == 7)
    }

    @Test(arguments: cases.map(\.name))
    func matchesScikitLearn(name: String) throws {
        let testCase = try #require(Self.cases.first { $0.name == name })
        let auroc = try #require(DetectionMetrics.auroc(scores: testCase.scores, anomalous: testCase.labels))
        let precision = try #require(DetectionMetrics.averagePrecision(scores: testCase.scores, anomalous: testCase.labels))
        #expect(abs(auroc - testCase.auroc) < 1e-12, "AUROC \(auroc) vs \(testCase.auroc)")
        #expect(abs(precision - testCase.averagePrecision) < 1e-12, "AP \(precision) vs \(testCase.averagePrecision)")
    }

    @Test func undefinedWithoutBothClasses() {
        #expect(DetectionMetrics.auroc(scores: [0.1, 0.2], anomalous: [true, true]) == nil)
        #expect(DetectionMetrics.auroc(scores: [0.1, 0.2], anomalous: [false, false]) == nil)
        #expect(DetectionMetrics.averagePrecision(scores: [0.1, 0.2], anomalous: [false, false]) == nil)
    }
}

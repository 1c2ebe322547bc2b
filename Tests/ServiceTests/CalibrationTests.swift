import InCTRL
import Testing
@testable import Service

/// The threshold rule on constructed score lists.
@Suite struct CalibrationTests {
    func observations(_ scores: [Float]) -> [Calibration.Observation] {
        scores.map { Calibration.Observation(score: $0, residualMap: [$0 / 2, $0 / 4]) }
    }

    @Test func thresholdIsTheLargestScorePlusMarginStandardDeviations() {
        // Scores 0.1, 0.2, 0.3: population σ = sqrt(2/300) ≈ 0.0816497.
        let calibration = Calibration(shots: observations([0.1, 0.2, 0.3]), extra: [])
        let sigma = (2.0 / 300).squareRoot()
        #expect(abs(Double(calibration.imageThreshold(margin: 1)!) - (0.3 + sigma)) < 1e-6)
        #expect(abs(Double(calibration.imageThreshold(margin: 0)!) - 0.3) < 1e-7)
        #expect(abs(Double(calibration.imageThreshold(margin: 2.5)!) - (0.3 + 2.5 * sigma)) < 1e-6)
    }

    @Test func extraImagesCountLikeShots() {
        let calibration = Calibration(shots: observations([0.1, 0.2]), extra: observations([0.5]))
        #expect(calibration.scores == [0.1, 0.2, 0.5])
        #expect(calibration.observations.count == 3)
        let mean = (0.1 + 0.2 + 0.5) / 3.0
        let sigma = (([0.1, 0.2, 0.5].map { ($0 - mean) * ($0 - mean) }.reduce(0, +)) / 3).squareRoot()
        #expect(abs(Double(calibration.imageThreshold(margin: 1)!) - (0.5 + sigma)) < 1e-6)
    }

    @Test func aSingleScoreIsItsOwnThresholdAndNoScoreGivesNone() {
        #expect(Calibration(shots: [], extra: observations([0.42])).imageThreshold(margin: 3) == 0.42)
        #expect(Calibration(shots: [], extra: []).imageThreshold(margin: 1) == nil)
        #expect(Calibration(shots: [], extra: []).pixelThreshold(margin: 1) == nil)
    }

    @Test func theThresholdNeverExceedsOne() {
        #expect(Calibration(shots: observations([0.95, 0.5]), extra: []).imageThreshold(margin: 10) == 1)
    }

    @Test func pixelThresholdUsesEveryPatchOfEveryNormalMap() {
        // Maps [0.05, 0.025], [0.1, 0.05]: values 0.025, 0.05, 0.05, 0.1.
        let calibration = Calibration(shots: observations([0.1, 0.2]), extra: [])
        let values = [0.025, 0.05, 0.05, 0.1]
        let mean = values.reduce(0, +) / 4
        let sigma = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 4).squareRoot()
        #expect(abs(Double(calibration.pixelThreshold(margin: 1)!) - (0.1 + sigma)) < 1e-6)
    }
}

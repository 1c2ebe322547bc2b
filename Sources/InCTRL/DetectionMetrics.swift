/// Image-level detection metrics of the evaluation protocol (docs/MODEL.md §6), computed as
/// scikit-learn computes them: anomalous is the positive class, and tied scores form one
/// threshold.
public enum DetectionMetrics {
    /// Area under the ROC curve (`roc_auc_score`): trapezoids between the points at each
    /// distinct score, so ties count half. Nil unless both classes occur.
    public static func auroc(scores: [Float], anomalous: [Bool]) -> Double? {
        let points = thresholdPoints(scores: scores, anomalous: anomalous)
        guard let last = points.last, last.truePositives > 0, last.falsePositives > 0 else { return nil }
        var area = 0.0
        var previous = (truePositives: 0, falsePositives: 0)
        for point in points {
            let width = Double(point.falsePositives - previous.falsePositives)
            area += width * Double(point.truePositives + previous.truePositives) / 2
            previous = (point.truePositives, point.falsePositives)
        }
        return area / (Double(last.truePositives) * Double(last.falsePositives))
    }

    /// Average precision (`average_precision_score`): `Σ (R_n − R_{n−1})·P_n` over the
    /// distinct scores from highest to lowest. Nil when there is no positive.
    public static func averagePrecision(scores: [Float], anomalous: [Bool]) -> Double? {
        let points = thresholdPoints(scores: scores, anomalous: anomalous)
        guard let positives = points.last?.truePositives, positives > 0 else { return nil }
        var precisionSum = 0.0
        var previousRecall = 0.0
        for point in points {
            let recall = Double(point.truePositives) / Double(positives)
            let precision = Double(point.truePositives) / Double(point.truePositives + point.falsePositives)
            precisionSum += (recall - previousRecall) * precision
            previousRecall = recall
        }
        return precisionSum
    }

    /// The counts and rates of deciding `anomalous = score > threshold`.
    public struct AtThreshold: Sendable, Equatable, Codable {
        public let truePositives: Int
        public let falsePositives: Int
        public let trueNegatives: Int
        public let falseNegatives: Int

        /// TP / (TP + FP); 0 when nothing is called anomalous (scikit-learn's `zero_division=0`).
        public var precision: Double { ratio(truePositives, truePositives + falsePositives) }
        /// TP / (TP + FN): the share of anomalous images rejected.
        public var recall: Double { ratio(truePositives, truePositives + falseNegatives) }
        /// The harmonic mean of precision and recall; 0 when both are.
        public var f1: Double { precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall) }
        /// FP / (FP + TN): the share of normal images rejected.
        public var falsePositiveRate: Double { ratio(falsePositives, falsePositives + trueNegatives) }

        private func ratio(_ part: Int, _ whole: Int) -> Double { whole == 0 ? 0 : Double(part) / Double(whole) }
    }

    /// The confusion counts of `anomalous = score > threshold`.
    public static func atThreshold(_ threshold: Float, scores: [Float], anomalous: [Bool]) -> AtThreshold {
        precondition(scores.count == anomalous.count, "one label per score")
        var truePositives = 0, falsePositives = 0, trueNegatives = 0, falseNegatives = 0
        for (score, isAnomalous) in zip(scores, anomalous) {
            switch (score > threshold, isAnomalous) {
            case (true, true): truePositives += 1
            case (true, false): falsePositives += 1
            case (false, false): trueNegatives += 1
            case (false, true): falseNegatives += 1
            }
        }
        return AtThreshold(truePositives: truePositives, falsePositives: falsePositives, trueNegatives: trueNegatives, falseNegatives: falseNegatives)
    }

    /// The ROC curve: (false-positive rate, true-positive rate) from (0, 0) through every
    /// distinct score, highest first, to (1, 1), as `roc_curve` draws it.
    public static func rocCurve(scores: [Float], anomalous: [Bool]) -> [(x: Double, y: Double)] {
        let points = thresholdPoints(scores: scores, anomalous: anomalous)
        guard let last = points.last, last.truePositives > 0, last.falsePositives > 0 else { return [] }
        return [(0, 0)] + points.map { (Double($0.falsePositives) / Double(last.falsePositives), Double($0.truePositives) / Double(last.truePositives)) }
    }

    /// The precision–recall curve: (recall, precision) at every distinct score, highest
    /// first, starting from (0, 1) as `precision_recall_curve` does.
    public static func precisionRecallCurve(scores: [Float], anomalous: [Bool]) -> [(x: Double, y: Double)] {
        let points = thresholdPoints(scores: scores, anomalous: anomalous)
        guard let positives = points.last?.truePositives, positives > 0 else { return [] }
        return [(0, 1)] + points.map {
            (Double($0.truePositives) / Double(positives), Double($0.truePositives) / Double($0.truePositives + $0.falsePositives))
        }
    }

    /// Cumulative true and false positives at each distinct score, highest score first.
    private static func thresholdPoints(scores: [Float], anomalous: [Bool]) -> [(truePositives: Int, falsePositives: Int)] {
        precondition(scores.count == anomalous.count, "one label per score")
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var points: [(truePositives: Int, falsePositives: Int)] = []
        var truePositives = 0, falsePositives = 0
        for (position, index) in order.enumerated() {
            if anomalous[index] { truePositives += 1 } else { falsePositives += 1 }
            let isLastOfTie = position + 1 == order.count || scores[order[position + 1]] != scores[index]
            if isLastOfTie { points.append((truePositives, falsePositives)) }
        }
        return points
    }
}

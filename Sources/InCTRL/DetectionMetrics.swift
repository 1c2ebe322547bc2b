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

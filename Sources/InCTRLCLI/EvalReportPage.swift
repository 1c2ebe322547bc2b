import Foundation
import Imaging
import InCTRL

/// `inctrl eval --report`: one self-contained HTML page (inline SVG and PNG data, no script,
/// nothing fetched) per evaluation: for each category the ROC and precision–recall curves,
/// the score histograms of normal and anomalous test images with the calibrated threshold,
/// and the worst false positives and false negatives as the model saw them, with heat-maps.
/// Curves, histograms and cases are those of the first prompt draw (seed 0).
struct EvalReportPage {
    let model: ModelInfo
    let shots: Int
    let seeds: Int
    let thresholdMargin: Double
    let results: [Evaluator.CategoryResult]

    /// How many worst cases of each kind are shown.
    static let worstCases = 6

    func html() throws -> String {
        var body = """
            <h1>inctrl eval</h1>
            <p class="meta">Model <b>\(escape(model.name))</b> (\(escape(model.precision))), K = \(shots) shots, \(seeds) prompt draw\(seeds == 1 ? "" : "s"),
            threshold margin \(format(thresholdMargin, 2)) σ.\(model.demo ? " <span class=\"demo\">Demo model with random weights: these numbers mean nothing.</span>" : "")</p>
            """
        body += summaryTable()
        for result in results { body += try section(result) }
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>inctrl eval report</title>
            <style>\(Self.style)</style></head>
            <body>\(body)</body></html>

            """
    }

    private func summaryTable() -> String {
        var rows = ""
        for result in results {
            func decision(_ metric: (DetectionMetrics.AtThreshold) -> Double) -> String {
                result.decisionStatistic(metric).map { percent($0.mean, $0.std) } ?? "–"
            }
            rows += "<tr><td>\(escape(result.category))</td><td>\(result.testImages)</td><td>\(result.anomalous)</td>"
                + "<td>\(percent(result.aurocMean, result.aurocStd))</td><td>\(percent(result.auprcMean, result.auprcStd))</td>"
                + "<td>\(decision(\.precision))</td><td>\(decision(\.recall))</td><td>\(decision(\.f1))</td><td>\(decision(\.falsePositiveRate))</td></tr>"
        }
        return """
            <table><thead><tr><th>category</th><th>images</th><th>anomalous</th><th>AUROC %</th><th>AUPRC %</th>
            <th>precision %</th><th>recall %</th><th>F1 %</th><th>FPR %</th></tr></thead><tbody>\(rows)</tbody></table>
            <p class="note">Precision, recall, F1 and false-positive rate are at each draw's threshold calibrated from its
            prompts alone (largest leave-one-out score plus the margin), as the service decides; mean ± std over draws.</p>
            """
    }

    private func section(_ result: Evaluator.CategoryResult) throws -> String {
        let scores = result.samples.map(\.score)
        let labels = result.samples.map(\.anomalous)
        let threshold = result.thresholds.first ?? nil
        let roc = DetectionMetrics.rocCurve(scores: scores, anomalous: labels)
        let pr = DetectionMetrics.precisionRecallCurve(scores: scores, anomalous: labels)
        var html = "<section><h2>\(escape(result.category))</h2><div class=\"charts\">"
        html += curve(roc, title: "ROC (AUROC \(percent(result.auroc[0])) %)", xLabel: "false-positive rate", yLabel: "true-positive rate", diagonal: true)
        html += curve(pr, title: "Precision–recall (AP \(percent(result.auprc[0])) %)", xLabel: "recall", yLabel: "precision", diagonal: false)
        html += histogram(result.samples, threshold: threshold)
        html += "</div>"
        // Worst false positives: normal images scored highest; worst false negatives:
        // anomalous images scored lowest. Shown only when they are on the wrong side.
        let normals = result.samples.filter { !$0.anomalous }.sorted { $0.score > $1.score }
        let anomalies = result.samples.filter(\.anomalous).sorted { $0.score < $1.score }
        let falsePositives = normals.filter { sample in threshold.map { sample.score > $0 } ?? true }.prefix(Self.worstCases)
        let falseNegatives = anomalies.filter { sample in threshold.map { sample.score <= $0 } ?? true }.prefix(Self.worstCases)
        let scale = max(result.samples.map { $0.residualMap.max() ?? 0 }.max() ?? 0, 1e-6)
        html += "<h3>Worst false positives</h3>" + (try cases(Array(falsePositives), scale: scale, empty: "No normal image was rejected."))
        html += "<h3>Worst false negatives</h3>" + (try cases(Array(falseNegatives), scale: scale, empty: "No anomalous image was passed."))
        return html + "</section>"
    }

    /// A line chart on the unit square, as inline SVG.
    private func curve(_ points: [(x: Double, y: Double)], title: String, xLabel: String, yLabel: String, diagonal: Bool) -> String {
        let size = 240.0, margin = 36.0
        func px(_ x: Double) -> String { format(margin + x * size, 1) }
        func py(_ y: Double) -> String { format(margin + (1 - y) * size, 1) }
        let path = points.map { "\(px($0.x)),\(py($0.y))" }.joined(separator: " ")
        return """
            <figure><svg role="img" aria-label="\(escape(title))" width="\(Int(size + 2 * margin))" height="\(Int(size + 2 * margin))" viewBox="0 0 \(Int(size + 2 * margin)) \(Int(size + 2 * margin))">
            <rect x="\(margin)" y="\(margin)" width="\(size)" height="\(size)" class="frame"/>
            \(diagonal ? "<line x1=\"\(px(0))\" y1=\"\(py(0))\" x2=\"\(px(1))\" y2=\"\(py(1))\" class=\"chance\"/>" : "")
            <polyline points="\(path)" class="curve"/>
            <text x="\(px(0.5))" y="\(Int(size + 2 * margin - 6))" text-anchor="middle">\(escape(xLabel))</text>
            <text x="12" y="\(py(0.5))" text-anchor="middle" transform="rotate(-90 12 \(py(0.5)))">\(escape(yLabel))</text>
            <text x="\(px(0))" y="\(Int(margin + size + 14))" text-anchor="middle">0</text><text x="\(px(1))" y="\(Int(margin + size + 14))" text-anchor="middle">1</text>
            </svg><figcaption>\(escape(title))</figcaption></figure>
            """
    }

    /// Score histograms of normal and anomalous images on [0, 1] with the threshold line.
    private func histogram(_ samples: [Evaluator.CategoryResult.Sample], threshold: Float?) -> String {
        let bins = 25, width = 300.0, height = 240.0, margin = 36.0
        func counts(_ anomalous: Bool) -> [Int] {
            var counts = [Int](repeating: 0, count: bins)
            for sample in samples where sample.anomalous == anomalous {
                counts[min(bins - 1, max(0, Int(Double(sample.score) * Double(bins))))] += 1
            }
            return counts
        }
        let normal = counts(false), anomalous = counts(true)
        let tallest = Double(max(1, (normal + anomalous).max() ?? 1))
        let binWidth = width / Double(bins)
        var bars = ""
        for (index, (n, a)) in zip(normal, anomalous).enumerated() {
            let x = margin + Double(index) * binWidth
            bars += "<rect x=\"\(format(x, 1))\" y=\"\(format(margin + height - Double(n) / tallest * height, 1))\" width=\"\(format(binWidth / 2, 1))\" height=\"\(format(Double(n) / tallest * height, 1))\" class=\"normal\"/>"
            bars += "<rect x=\"\(format(x + binWidth / 2, 1))\" y=\"\(format(margin + height - Double(a) / tallest * height, 1))\" width=\"\(format(binWidth / 2, 1))\" height=\"\(format(Double(a) / tallest * height, 1))\" class=\"anomalous\"/>"
        }
        let line = threshold.map { value -> String in
            let x = format(margin + Double(value) * width, 1)
            return "<line x1=\"\(x)\" y1=\"\(margin - 8)\" x2=\"\(x)\" y2=\"\(margin + height)\" class=\"threshold\"/><text x=\"\(x)\" y=\"\(margin - 12)\" text-anchor=\"middle\">threshold \(format(Double(value), 3))</text>"
        } ?? ""
        let title = "Scores: normal (green) and anomalous (red)"
        return """
            <figure><svg role="img" aria-label="\(title)" width="\(Int(width + 2 * margin))" height="\(Int(height + 2 * margin))" viewBox="0 0 \(Int(width + 2 * margin)) \(Int(height + 2 * margin))">
            <rect x="\(margin)" y="\(margin)" width="\(width)" height="\(height)" class="frame"/>\(bars)\(line)
            <text x="\(margin)" y="\(Int(margin + height + 14))" text-anchor="middle">0</text><text x="\(margin + width)" y="\(Int(margin + height + 14))" text-anchor="middle">1</text>
            <text x="\(margin + width / 2)" y="\(Int(height + 2 * margin - 6))" text-anchor="middle">anomaly score</text>
            </svg><figcaption>\(title)</figcaption></figure>
            """
    }

    /// Thumbnails of `samples` as the model saw them (the 240 × 240 crop) with their
    /// heat-maps on one scale for the whole category.
    private func cases(_ samples: [Evaluator.CategoryResult.Sample], scale: Float, empty: String) throws -> String {
        guard !samples.isEmpty else { return "<p class=\"note\">\(empty)</p>" }
        var html = "<div class=\"cases\">"
        let renderer = try HeatMapRenderer(opacity: 0.6, fadeBelow: 0.25)
        for sample in samples {
            let decoded = try ImageDecoder.decode([UInt8](try Data(contentsOf: sample.url)))
            let crop = Preprocessor.inctrl.rgb8(decoded)
            let gridSize = Int(Double(sample.residualMap.count).squareRoot())
            let field = try AnomalyField(residualMap: sample.residualMap, gridSize: gridSize, imageWidth: crop.width, imageHeight: crop.height)
            let png = try PNGEncoder.encode(try renderer.render(field, over: crop, scaleMax: scale))
            html += """
                <figure class="case"><img width="160" height="160" alt="\(escape(sample.url.lastPathComponent)), score \(format(Double(sample.score), 3))" src="data:image/png;base64,\(Data(png).base64EncodedString())">
                <figcaption>\(escape(sample.url.lastPathComponent))<br>score \(format(Double(sample.score), 3))</figcaption></figure>
                """
        }
        return html + "</div>"
    }

    private func percent(_ value: Double) -> String { format(100 * value, 1) }
    private func percent(_ mean: Double, _ std: Double) -> String { "\(format(100 * mean, 1)) ± \(format(100 * std, 1))" }
    private func format(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static let style = """
        body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1d1d1f;max-width:1200px}
        h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd}h3{font-size:15px}
        table{border-collapse:collapse}th,td{padding:4px 10px;border-bottom:1px solid #e4e4e4;text-align:right}
        th:first-child,td:first-child{text-align:left}.note,.meta{color:#555}.demo{color:#b00020;font-weight:600}
        .charts{display:flex;flex-wrap:wrap;gap:16px}figure{margin:0}figcaption{font-size:12px;color:#555;text-align:center}
        svg text{font-size:11px;fill:#333}.frame{fill:none;stroke:#bbb}.chance{stroke:#bbb;stroke-dasharray:4 4}
        .curve{fill:none;stroke:#3659c9;stroke-width:2}.normal{fill:#2e9b4f}.anomalous{fill:#c43b3b}
        .threshold{stroke:#111;stroke-width:1.5;stroke-dasharray:5 3}.cases{display:flex;flex-wrap:wrap;gap:12px}
        .case img{border:1px solid #ccc;image-rendering:auto}
        """
}

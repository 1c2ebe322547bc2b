import Foundation
import Testing

/// `inctrl eval --report`: decisions at the calibrated threshold in the JSON, and one
/// self-contained HTML page that parses and holds the curves, histograms and heat-maps.
@Suite struct EvalReportTests {
    @Test func evalReportsDecisionsAndWritesASelfContainedPage() throws {
        let root = try PromptSetTestData.scratchDirectory("eval-tree").appendingPathComponent("cells")
        let layout: [(String, [String])] = [
            ("train/good", ["0004_functional", "0009_functional", "0011_functional"]),
            ("test/good", ["0004_functional", "0011_functional"]),
            ("test/crack", ["0001_defective", "0002_defective", "0003_defective"]),
        ]
        for (folder, cells) in layout {
            let directory = root.appendingPathComponent(folder)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            for cell in cells { try Data(try InCTRLServiceTests.cell(cell)).write(to: directory.appendingPathComponent(cell + ".png")) }
        }
        let report = root.deletingLastPathComponent().appendingPathComponent("report.html")
        let output = try ServerProcess.runToCompletion([
            "eval", "--model", try InCTRLServiceTests.bundle.get().path, "--data", root.deletingLastPathComponent().path,
            "--shots", "2", "--seeds", "2", "--report", report.path,
        ])
        let json = try #require(output.split(separator: "\n").last { $0.hasPrefix("{") })
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let category = try #require((summary["categories"] as? [[String: Any]])?.first)
        #expect((category["thresholds"] as? [Double])?.count == 2)
        let decisions = try #require(category["at_threshold"] as? [[String: Any]])
        for counts in decisions {
            let total = ["true_positives", "false_positives", "true_negatives", "false_negatives"].map { counts[$0] as! Int }.reduce(0, +)
            #expect(total == 5)
            for rate in ["precision", "recall", "f1", "false_positive_rate"] { #expect((0...1).contains(counts[rate] as! Double)) }
        }

        let page = try String(contentsOf: report, encoding: .utf8)
        #expect(page.hasPrefix("<!DOCTYPE html>"))
        #expect(Self.tagsBalance(page), "unbalanced tags")
        #expect(page.components(separatedBy: "<polyline").count - 1 == 2, "a ROC and a PR curve")
        #expect(page.contains("class=\"threshold\""), "the threshold line in the histogram")
        // Nothing is fetched: no URL but inline data.
        #expect(!page.contains("http://") && !page.contains("https://") && !page.contains("<script"))
        let images = page.matches(of: /src="data:image\/png;base64,([A-Za-z0-9+\/=]+)"/).map { String($0.output.1) }
        for image in images {
            #expect(Data(base64Encoded: image)?.starts(with: [0x89, 0x50, 0x4E, 0x47]) == true)
        }
    }

    /// Every element opened is closed in order (void elements excepted).
    static func tagsBalance(_ html: String) -> Bool {
        let void: Set<String> = ["meta", "img", "br", "rect", "line", "polyline", "link", "input", "hr"]
        var stack: [String] = []
        for tag in html.matches(of: /<(\/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*?(\/?)>/) {
            let name = String(tag.output.2).lowercased()
            if name == "html" && stack.isEmpty && tag.output.1.isEmpty { stack.append(name); continue }
            if !tag.output.3.isEmpty || void.contains(name) { continue }
            if tag.output.1.isEmpty { stack.append(name) } else if stack.popLast() != name { return false }
        }
        return stack.isEmpty
    }
}

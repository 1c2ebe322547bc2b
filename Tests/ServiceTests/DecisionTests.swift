import CLIP
import Foundation
import InCTRL
import Testing
@testable import Service

/// Calibration from normal images, thresholds and decisions, through the API of a real
/// service with the tiny model.
@Suite(.serialized) struct DecisionTests {
    typealias Running = InCTRLServiceTests.Running

    static func json(_ object: Any) throws -> [UInt8] { [UInt8](try JSONSerialization.data(withJSONObject: object)) }
    static func base64(_ cells: [String]) throws -> [String] { try cells.map { Data(try InCTRLServiceTests.cell($0)).base64EncodedString() } }
    static let shots = ["0004_functional", "0009_functional", "0011_functional"]

    /// Leave-one-out is exact: shot k's calibration score is the score a set registered from
    /// the other shots gives shot k, bit for bit, and so is its residual map.
    @Test func leaveOneOutEqualsRegisteringTheOthersAndScoringTheShot() async throws {
        let running = try await Running(dataDirectory: try PromptSetTestData.scratchDirectory("loo"))
        defer { Task { await running.stop() } }
        let (status, registered) = try await running.json("POST", "/prompts", body: try Self.json(["class_name": "cell", "images": try Self.base64(Self.shots)]), contentType: "application/json")
        #expect(status == 201)
        let calibration = try #require(registered["calibration"] as? [String: Any])
        let scores = try #require(calibration["scores"] as? [Double])
        #expect(scores.count == 3 && calibration["count"] as? Int == 3 && calibration["method"] as? String == "max_plus_margin_std")
        let id = try #require(registered["id"] as? String)
        let entry = try await running.service.registry.entry(try #require(PromptSetID(id)))

        for held in Self.shots.indices {
            var others = Self.shots
            others.remove(at: held)
            let (_, subset) = try await running.json("POST", "/prompts", body: try Self.json(["class_name": "cell", "images": try Self.base64(others)]), contentType: "application/json")
            let subsetID = try #require(subset["id"] as? String)
            let (_, scored) = try await running.json("POST", "/score?prompt_set=\(subsetID)", body: try InCTRLServiceTests.cell(Self.shots[held]), contentType: "image/png")
            #expect(scored["score"] as? Double == scores[held], "shot \(held)")
            #expect(Float(scored["score"] as! Double) == entry.calibration.shots[held].score)
            #expect(((scored["residual_map"] as? [String: Any])?["values"] as? [Double])?.map(Float.init) == entry.calibration.shots[held].residualMap)
        }
        // The threshold follows the rule over those scores.
        let expected = entry.calibration.imageThreshold(margin: 1)
        #expect((calibration["threshold"] as? Double).map(Float.init) == expected)
        #expect((registered["threshold"] as? [String: Any])?["source"] as? String == "calibrated")
    }

    /// Every score carries a decision; a manual threshold wins over the calibrated one, the
    /// request's over both, and removing the manual one goes back to the calibration.
    @Test func decisionsFollowTheMostSpecificThreshold() async throws {
        let running = try await Running(dataDirectory: try PromptSetTestData.scratchDirectory("decisions"))
        defer { Task { await running.stop() } }
        let (_, registered) = try await running.json("POST", "/prompts", body: try Self.json(["images": try Self.base64(Self.shots)]), contentType: "application/json")
        let id = try #require(registered["id"] as? String)
        let calibrated = try #require((registered["calibration"] as? [String: Any])?["threshold"] as? Double)
        let query = try InCTRLServiceTests.cell("0001_defective")
        func decision(_ path: String) async throws -> (score: Double, decision: [String: Any]) {
            let (status, body) = try await running.json("POST", path, body: query, contentType: "image/png")
            #expect(status == 200, "\(body)")
            return (try #require(body["score"] as? Double), try #require(body["decision"] as? [String: Any]))
        }

        let (score, byCalibration) = try await decision("/score?prompt_set=\(id)")
        #expect(byCalibration["source"] as? String == "calibrated" && byCalibration["threshold"] as? Double == calibrated)
        #expect(byCalibration["anomalous"] as? Bool == (Float(score) > Float(calibrated)))

        let (_, byRequest) = try await decision("/score?prompt_set=\(id)&threshold=0")
        #expect(byRequest["source"] as? String == "request" && byRequest["anomalous"] as? Bool == true)
        let (_, atOne) = try await decision("/score?prompt_set=\(id)&threshold=1")
        #expect(atOne["anomalous"] as? Bool == false)

        let (put, set) = try await running.json("PUT", "/prompts/\(id)/threshold", body: try Self.json(["threshold": 0.001]), contentType: "application/json")
        #expect(put == 200 && (set["threshold"] as? [String: Any])?["source"] as? String == "manual")
        let (_, byManual) = try await decision("/score?prompt_set=\(id)")
        #expect(byManual["source"] as? String == "manual" && (byManual["threshold"] as? Double).map(Float.init) == 0.001 && byManual["anomalous"] as? Bool == true)
        let (_, requestStillWins) = try await decision("/score?prompt_set=\(id)&threshold=1")
        #expect(requestStillWins["source"] as? String == "request")

        let (deleted, cleared) = try await running.json("DELETE", "/prompts/\(id)/threshold")
        #expect(deleted == 200 && (cleared["threshold"] as? [String: Any])?["source"] as? String == "calibrated")
        #expect(try await decision("/score?prompt_set=\(id)").decision["source"] as? String == "calibrated")

        let metrics = String(decoding: try await running.send("GET", "/metrics").body, as: UTF8.self)
        #expect(metrics.contains(#"inctrl_decisions_total{outcome="anomalous"}"#))
    }

    @Test func invalidThresholdsAreRefused() async throws {
        let running = try await Running(dataDirectory: try PromptSetTestData.scratchDirectory("thresholds"))
        defer { Task { await running.stop() } }
        let (_, registered) = try await running.json("POST", "/prompts", body: try Self.json(["images": try Self.base64(Self.shots)]), contentType: "application/json")
        let id = try #require(registered["id"] as? String)
        for body in [#"{"threshold": 1.5}"#, #"{"threshold": -0.1}"#] {
            let (status, refusal) = try await running.json("PUT", "/prompts/\(id)/threshold", body: Array(body.utf8), contentType: "application/json")
            #expect(status == 400 && InCTRLServiceTests.errorCode(refusal) == "invalid_threshold", "\(body)")
        }
        let (missing, missingBody) = try await running.json("PUT", "/prompts/\(id)/threshold", body: Array("{}".utf8), contentType: "application/json")
        #expect(missing == 400 && InCTRLServiceTests.errorCode(missingBody) == "missing_field")
        let (wrongType, wrongTypeBody) = try await running.json("PUT", "/prompts/\(id)/threshold", body: Array(#"{"threshold": "high"}"#.utf8), contentType: "application/json")
        #expect(wrongType == 400 && InCTRLServiceTests.errorCode(wrongTypeBody) == "invalid_field")
        for value in ["2", "-1", "nan", "abc"] {
            let (status, refusal) = try await running.json("POST", "/score?prompt_set=\(id)&threshold=\(value)", body: try InCTRLServiceTests.cell("0001_defective"), contentType: "image/png")
            #expect(status == 400 && InCTRLServiceTests.errorCode(refusal) == "invalid_threshold", "\(value)")
        }
        let unknown = String(repeating: "b", count: 32)
        let (notFound, notFoundBody) = try await running.json("PUT", "/prompts/\(unknown)/threshold", body: Array(#"{"threshold": 0.5}"#.utf8), contentType: "application/json")
        #expect(notFound == 404 && InCTRLServiceTests.errorCode(notFoundBody) == "unknown_prompt_set")
    }

    /// A one-shot set has no threshold (decision `none`, `anomalous` null) until calibration
    /// images arrive; then the calibration and threshold come from them.
    @Test func aOneShotSetDecidesOnlyOnceCalibrated() async throws {
        let running = try await Running(dataDirectory: try PromptSetTestData.scratchDirectory("one-shot"))
        defer { Task { await running.stop() } }
        let (_, registered) = try await running.json("POST", "/prompts", body: try Self.json(["images": try Self.base64(["0004_functional"])]), contentType: "application/json")
        let id = try #require(registered["id"] as? String)
        let calibration = try #require(registered["calibration"] as? [String: Any])
        #expect((calibration["scores"] as? [Any])?.isEmpty == true && calibration["threshold"] is NSNull)
        let query = try InCTRLServiceTests.cell("0001_defective")
        let (_, undecided) = try await running.json("POST", "/score?prompt_set=\(id)", body: query, contentType: "image/png")
        let decision = try #require(undecided["decision"] as? [String: Any])
        #expect(decision["source"] as? String == "none" && decision["anomalous"] is NSNull && decision["threshold"] is NSNull)

        let form = InCTRLServiceTests.multipart([("images", "a.png", try InCTRLServiceTests.cell("0009_functional")), ("images", "b.png", try InCTRLServiceTests.cell("0011_functional"))])
        let (status, calibrated) = try await running.json("POST", "/prompts/\(id)/calibration", body: form.body, contentType: form.contentType)
        #expect(status == 200 && calibrated["count"] as? Int == 2 && calibrated["extra_images"] as? Int == 2)
        let scores = try #require(calibrated["scores"] as? [Double])
        // Each calibration image scored against the set gives what /score gives it.
        let (_, direct) = try await running.json("POST", "/score?prompt_set=\(id)", body: try InCTRLServiceTests.cell("0009_functional"), contentType: "image/png")
        #expect(direct["score"] as? Double == scores[0])
        let (_, decided) = try await running.json("POST", "/score?prompt_set=\(id)", body: query, contentType: "image/png")
        #expect((decided["decision"] as? [String: Any])?["source"] as? String == "calibrated")
        #expect((decided["decision"] as? [String: Any])?["threshold"] as? Double == calibrated["threshold"] as? Double)
    }

    /// The calibration and the manual threshold are stored with the set: a restart serves
    /// them unchanged; a different model recomputes the calibration.
    @Test func calibrationSurvivesARestartAndFollowsTheModel() async throws {
        let data = try PromptSetTestData.scratchDirectory("calibration-restart")
        let first = try await Running(dataDirectory: data)
        let (_, registered) = try await first.json("POST", "/prompts", body: try Self.json(["images": try Self.base64(Self.shots)]), contentType: "application/json")
        let id = try #require(registered["id"] as? String)
        let form = InCTRLServiceTests.multipart([("images", "a.png", try InCTRLServiceTests.cell("0002_defective"))])
        _ = try await first.json("POST", "/prompts/\(id)/calibration", body: form.body, contentType: form.contentType)
        _ = try await first.json("PUT", "/prompts/\(id)/threshold", body: try Self.json(["threshold": 0.25]), contentType: "application/json")
        let (_, before) = try await first.json("GET", "/prompts/\(id)")
        await first.stop()

        let second = try await Running(dataDirectory: data)
        let (_, after) = try await second.json("GET", "/prompts/\(id)")
        await second.stop()
        #expect((after["calibration"] as? [String: Any])?["scores"] as? [Double] == (before["calibration"] as? [String: Any])?["scores"] as? [Double])
        #expect(((after["calibration"] as? [String: Any])?["scores"] as? [Double])?.count == 4)
        #expect(after["manual_threshold"] as? Double == 0.25)
        #expect((after["calibration_images"] as? [Any])?.count == 1)

        // Another model (other weights): the calibration is recomputed, the manual threshold kept.
        let vocabulary = ProcessInfo.processInfo.environment["INCTRL_VOCAB"].map { URL(fileURLWithPath: $0) }
            ?? InCTRLServiceTests.repository.appendingPathComponent(".cache/bpe_simple_vocab_16e6.txt.gz")
        let other = FileManager.default.temporaryDirectory.appendingPathComponent("other-bundle-\(UUID().uuidString)")
        try DemoBundle.write(architecture: .tiny, seed: 12, vocabulary: vocabulary, to: other)
        let third = try await Running(dataDirectory: data) { $0.model = other.path }
        defer { Task { await third.stop() } }
        let (_, recomputed) = try await third.json("GET", "/prompts/\(id)")
        let newScores = try #require((recomputed["calibration"] as? [String: Any])?["scores"] as? [Double])
        #expect(newScores.count == 4 && newScores != (before["calibration"] as? [String: Any])?["scores"] as? [Double])
        #expect(recomputed["manual_threshold"] as? Double == 0.25)
        // And it is what the new model computes: shot 0 scored against the other shots.
        let (_, subset) = try await third.json("POST", "/prompts", body: try Self.json(["images": try Self.base64(Array(Self.shots.dropFirst()))]), contentType: "application/json")
        let (_, scored) = try await third.json("POST", "/score?prompt_set=\(try #require(subset["id"] as? String))", body: try InCTRLServiceTests.cell(Self.shots[0]), contentType: "image/png")
        #expect(scored["score"] as? Double == newScores[0])
    }

    /// A batch answers, in order, exactly what /score answers for each image, and an image
    /// that does not decode gets its own error in its place.
    @Test func aBatchGivesEachImageWhatScoringItAloneGives() async throws {
        let running = try await Running(dataDirectory: try PromptSetTestData.scratchDirectory("batch")) { $0.maxBatchImages = 4; $0.queueSize = 4 }
        defer { Task { await running.stop() } }
        let (_, registered) = try await running.json("POST", "/prompts", body: try Self.json(["images": try Self.base64(Self.shots)]), contentType: "application/json")
        let id = try #require(registered["id"] as? String)
        let images = [try InCTRLServiceTests.cell("0001_defective"), Array("not an image".utf8), try InCTRLServiceTests.cell("0002_defective")]
        let form = InCTRLServiceTests.multipart(images.enumerated().map { ("images", "\($0.offset).png", $0.element) })
        let (status, batch) = try await running.json("POST", "/score/batch?prompt_set=\(id)", body: form.body, contentType: form.contentType)
        #expect(status == 200)
        let results = try #require(batch["results"] as? [[String: Any]])
        #expect(results.count == 3)
        #expect(InCTRLServiceTests.errorCode(results[1]) == "undecodable_image")
        for index in [0, 2] {
            let (_, single) = try await running.json("POST", "/score?prompt_set=\(id)", body: images[index], contentType: "image/png")
            for key in ["score", "prompt_set"] { #expect("\(results[index][key]!)" == "\(single[key]!)", "\(index) \(key)") }
            #expect(results[index]["score"] as? Double == single["score"] as? Double)
            #expect((results[index]["residual_map"] as? [String: Any])?["values"] as? [Double] == (single["residual_map"] as? [String: Any])?["values"] as? [Double])
            #expect(results[index]["components"] as? [String: Double] == single["components"] as? [String: Double])
            #expect(NSDictionary(dictionary: results[index]["decision"] as! [String: Any]) == NSDictionary(dictionary: single["decision"] as! [String: Any]))
        }

        let five = InCTRLServiceTests.multipart((0..<5).map { ("images", "\($0).png", images[0]) })
        let (tooMany, tooManyBody) = try await running.json("POST", "/score/batch?prompt_set=\(id)", body: five.body, contentType: five.contentType)
        #expect(tooMany == 413 && InCTRLServiceTests.errorCode(tooManyBody) == "too_many_images")
    }

    /// A batch that does not fit in the model queue is refused whole, before any decoding.
    @Test func aBatchThatDoesNotFitTheQueueIsRefusedWhole() async throws {
        let running = try await Running(dataDirectory: try PromptSetTestData.scratchDirectory("batch-429")) { $0.maxBatchImages = 3; $0.queueSize = 3 }
        defer { Task { await running.stop() } }
        let (_, registered) = try await running.json("POST", "/prompts", body: try Self.json(["images": try Self.base64(Self.shots)]), contentType: "application/json")
        let id = try #require(registered["id"] as? String)
        let model = try await running.service.registry.model()
        let gate = DispatchSemaphore(value: 0)
        let blocker = Task { _ = try await model.run { () throws(InCTRLError) in gate.wait() } }
        while model.queueDepth == 0 { try await Task.sleep(for: .milliseconds(5)) }
        let form = InCTRLServiceTests.multipart((0..<3).map { ("images", "\($0).png", try! InCTRLServiceTests.cell("0001_defective")) })
        let (status, body) = try await running.json("POST", "/score/batch?prompt_set=\(id)", body: form.body, contentType: form.contentType)
        gate.signal()
        _ = try await blocker.value
        #expect(status == 429 && InCTRLServiceTests.errorCode(body) == "queue_full")
        let (retried, _) = try await running.json("POST", "/score/batch?prompt_set=\(id)", body: form.body, contentType: form.contentType)
        #expect(retried == 200)
    }
}

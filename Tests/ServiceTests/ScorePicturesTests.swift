import Foundation
import Imaging
import Testing
@testable import Service

/// Heat-maps, masks and regions through the API: the pictures have the query's original
/// size, square or not, the regions lie inside the part the model saw, and `Accept:
/// image/png` answers the picture itself with the decision in headers.
@Suite(.serialized) struct ScorePicturesTests {
    typealias Running = InCTRLServiceTests.Running

    /// A cell tiled `across` × `down` times into one RGB image, as PNG bytes.
    static func tiled(_ name: String, across: Int, down: Int) throws -> (png: [UInt8], width: Int, height: Int) {
        let cell = try ImageDecoder.decode(try InCTRLServiceTests.cell(name)).rgb8()
        let width = cell.width * across, height = cell.height * down
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let source = ((y % cell.height) * cell.width + x % cell.width) * 3
                for channel in 0..<3 { pixels[(y * width + x) * 3 + channel] = cell.pixels[source + channel] }
            }
        }
        return (try PNGEncoder.encode(RGB8Image(width: width, height: height, pixels: pixels)!), width, height)
    }

    static func registered(_ running: Running) async throws -> String {
        let images = try ["0004_functional", "0009_functional", "0011_functional"].map { Data(try InCTRLServiceTests.cell($0)).base64EncodedString() }
        let body = [UInt8](try JSONSerialization.data(withJSONObject: ["images": images]))
        return try #require(try await running.json("POST", "/prompts", body: body, contentType: "application/json").1["id"] as? String)
    }

    @Test(arguments: [(1, 1), (2, 1), (1, 2)])
    func picturesHaveTheOriginalSizeAndRegionsLieInTheCrop(across: Int, down: Int) async throws {
        let running = try await Running(dataDirectory: try PromptSetTestData.scratchDirectory("pictures"))
        defer { Task { await running.stop() } }
        let id = try await Self.registered(running)
        let query = try Self.tiled("0001_defective", across: across, down: down)
        let (status, result) = try await running.json("POST", "/score?prompt_set=\(id)&include=heatmap,mask", body: query.png, contentType: "image/png")
        #expect(status == 200)
        for key in ["heatmap_png", "mask_png"] {
            let encoded = try #require(result[key] as? String)
            let png = [UInt8](try #require(Data(base64Encoded: encoded)))
            let decoded = try ImageDecoder.decode(png)
            #expect(decoded.width == query.width && decoded.height == query.height, "\(key) is \(decoded.width)×\(decoded.height)")
        }
        // The model saw the centre square of side min(width, height): regions lie inside it.
        let side = min(query.width, query.height)
        let crop = (x: (query.width - side) / 2, y: (query.height - side) / 2)
        let regions = try #require(result["regions"] as? [[String: Any]])
        #expect(result["anomalous_area_fraction"] is Double)
        for region in regions {
            let (x, y, w, h) = (region["x"] as! Int, region["y"] as! Int, region["width"] as! Int, region["height"] as! Int)
            #expect(x >= crop.x - 1 && y >= crop.y - 1 && x + w <= crop.x + side + 1 && y + h <= crop.y + side + 1, "\(region)")
            #expect(w > 0 && h > 0 && (region["area_fraction"] as! Double) > 0)
        }
        // Outside the crop the heat-map is the image itself.
        if across > 1 {
            let heatmap = try ImageDecoder.decode([UInt8](Data(base64Encoded: result["heatmap_png"] as! String)!)).rgb8()
            let original = try ImageDecoder.decode(query.png).rgb8()
            #expect(Array(heatmap.pixels[0..<(crop.x - 1) * 3]) == Array(original.pixels[0..<(crop.x - 1) * 3]))
        }
    }

    @Test func acceptPNGAnswersThePictureWithTheDecisionInHeaders() async throws {
        let running = try await Running(dataDirectory: try PromptSetTestData.scratchDirectory("pictures-png"))
        defer { Task { await running.stop() } }
        let id = try await Self.registered(running)
        let query = try InCTRLServiceTests.cell("0002_defective")
        let (_, json) = try await running.json("POST", "/score?prompt_set=\(id)", body: query, contentType: "image/png")
        let picture = try await running.send("POST", "/score?prompt_set=\(id)", body: query, contentType: "image/png", headers: ["Accept": "image/png"])
        #expect(picture.status == 200 && picture.headers["content-type"] == "image/png")
        let decoded = try ImageDecoder.decode(picture.body)
        #expect(decoded.width == 300 && decoded.height == 300)
        #expect(Float(try #require(picture.headers["inctrl-score"])) == Float(json["score"] as! Double))
        let decision = try #require(json["decision"] as? [String: Any])
        #expect(picture.headers["inctrl-anomalous"] == "\(decision["anomalous"] as! Bool)")
        #expect(picture.headers["inctrl-decision-source"] == "calibrated")
        #expect(Float(try #require(picture.headers["inctrl-threshold"])) == Float(decision["threshold"] as! Double))
        // JSON stays the default, and a client that accepts both gets JSON.
        let both = try await running.send("POST", "/score?prompt_set=\(id)", body: query, contentType: "image/png", headers: ["Accept": "application/json, image/png"])
        #expect(both.headers["content-type"] == "application/json")
    }

    @Test func anUnknownPictureIsRefused() async throws {
        let running = try await Running(dataDirectory: try PromptSetTestData.scratchDirectory("pictures-bad"))
        defer { Task { await running.stop() } }
        let id = try await Self.registered(running)
        let (status, body) = try await running.json("POST", "/score?prompt_set=\(id)&include=heatmap,thumbnail", body: try InCTRLServiceTests.cell("0002_defective"), contentType: "image/png")
        #expect(status == 400 && InCTRLServiceTests.errorCode(body) == "invalid_field")
    }
}

import Foundation
import InCTRL
import Tensor
import Testing
@testable import Service

/// The features a replica keeps in memory: the most recently used sets within
/// `feature_cache_bytes`; a set let go is read again from the store with the same bits, and
/// a start reads no features at all.
struct ResidentFeaturesTests {
    static func features(_ seed: Float, rows: Int) throws -> PromptSetFeatures {
        PromptSetFeatures(
            shots: 1, normalizedTaps: [try Tensor(shape: [rows, 2], scalars: (0..<(rows * 2)).map { Float($0) + seed })],
            prototype: [seed, seed])
    }

    @Test func theLeastRecentlyUsedGoFirstAndOneSetIsAlwaysKept() throws {
        let ids = (0..<4).map { PromptSetID(className: "c\($0)", images: [[UInt8($0)]]) }
        // 10 rows × 2 + 2 floats = 88 bytes a set; room for two.
        #expect(ResidentFeatures.size(of: try Self.features(0, rows: 10)) == 88)
        var resident = ResidentFeatures(capacity: 180)
        #expect(resident.put(try Self.features(0, rows: 10), for: ids[0]) == 0)
        #expect(resident.put(try Self.features(1, rows: 10), for: ids[1]) == 0)
        #expect(resident.use(ids[0])?.prototype == [0, 0])
        // ids[1] is now the least recently used.
        #expect(resident.put(try Self.features(2, rows: 10), for: ids[2]) == 1)
        #expect(resident.contains(ids[0]) && !resident.contains(ids[1]) && resident.contains(ids[2]))
        #expect(resident.bytes == 176 && resident.count == 2)
        // A set larger than the whole budget is kept alone.
        #expect(resident.put(try Self.features(3, rows: 100), for: ids[3]) == 2)
        #expect(resident.count == 1 && resident.contains(ids[3]) && resident.bytes == 808)
        // Putting a set again replaces it; removing it frees its bytes.
        resident.put(try Self.features(4, rows: 10), for: ids[3])
        #expect(resident.count == 1 && resident.bytes == 88 && resident.use(ids[3])?.prototype == [4, 4])
        resident.remove(ids[3])
        #expect(resident.count == 0 && resident.bytes == 0 && resident.use(ids[3]) == nil)
    }

    /// With room for one set, scoring three sets in turn reads each from the store again and
    /// gives the bits it gave the first time; after a restart no features are read until a
    /// set is used.
    @Test func setsLetGoAreReadAgainWithTheSameBits() async throws {
        let directory = try PromptSetTestData.scratchDirectory("resident")
        let cells = ["0004_functional", "0009_functional", "0011_functional"]
        let query = try InCTRLServiceTests.cell("0001_defective")
        var ids: [String] = [], first: [String: UInt64] = [:]
        do {
            let running = try await InCTRLServiceTests.Running(dataDirectory: directory) { $0.featureCacheBytes = 1 }
            for cell in cells {
                let body = [UInt8](try JSONSerialization.data(withJSONObject: ["images": [Data(try InCTRLServiceTests.cell(cell)).base64EncodedString()]]))
                let (status, registered) = try await running.json("POST", "/prompts", body: body, contentType: "application/json")
                #expect(status == 201)
                ids.append(try #require(registered["id"] as? String))
            }
            for round in 0..<2 {
                for id in ids {
                    let (status, answer) = try await running.json("POST", "/score?prompt_set=\(id)", body: query, contentType: "image/png")
                    #expect(status == 200)
                    let bits = try #require((answer["score"] as? Double)?.bitPattern)
                    if round == 0 { first[id] = bits } else { #expect(bits == first[id], "set \(id) scored differently once read again") }
                }
            }
            // Six scorings, each needing a set that the one before had pushed out.
            #expect(try await ReplicaChangesTests.metric(running, #"inctrl_feature_lookups_total{source="store"}"#) == 6)
            #expect(try await ReplicaChangesTests.metric(running, #"inctrl_feature_lookups_total{source="memory"}"#) == 0)
            #expect(try await ReplicaChangesTests.metric(running, "inctrl_feature_cache_sets") == 1)
            #expect(try await ReplicaChangesTests.metric(running, "inctrl_feature_evictions_total") >= 8)
            await running.stop()
        }

        let restarted = try await InCTRLServiceTests.Running(dataDirectory: directory)
        defer { Task { await restarted.stop() } }
        #expect(try await ReplicaChangesTests.metric(restarted, "inctrl_feature_cache_sets") == 0)
        #expect(try await Self.listed(restarted) == ids.count)
        for id in ids {
            let (_, answer) = try await restarted.json("POST", "/score?prompt_set=\(id)", body: query, contentType: "image/png")
            #expect((answer["score"] as? Double)?.bitPattern == first[id])
        }
        let (_, again) = try await restarted.json("POST", "/score?prompt_set=\(ids[0])", body: query, contentType: "image/png")
        #expect((again["score"] as? Double)?.bitPattern == first[ids[0]])
        #expect(try await ReplicaChangesTests.metric(restarted, #"inctrl_feature_lookups_total{source="store"}"#) == 3)
        #expect(try await ReplicaChangesTests.metric(restarted, #"inctrl_feature_lookups_total{source="memory"}"#) == 1)
        #expect(try await ReplicaChangesTests.metric(restarted, #"inctrl_feature_lookups_total{source="computed"}"#) == 0)
    }

    static func listed(_ running: InCTRLServiceTests.Running) async throws -> Int {
        ((try await running.json("GET", "/prompts").1["prompt_sets"] as? [Any]) ?? []).count
    }
}

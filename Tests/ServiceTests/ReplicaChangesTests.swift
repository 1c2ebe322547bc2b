import Foundation
import Testing
@testable import PostgresStore
@testable import Service

/// Replicas over one PostgreSQL database follow each other: creations, deletions, threshold
/// and calibration changes made through one reach the others through LISTEN/NOTIFY, without
/// a request and without a restart; a replica asked for a set it has not heard of yet finds
/// it in the database; notices missed while the database was away are made up for.
@Suite(.serialized, .enabled(if: PostgresServer.isEnabled, Comment(rawValue: PostgresServer.skipMessage)))
struct ReplicaChangesTests {
    /// Polls `condition` every 10 ms for up to `seconds`; returns the seconds it took, or nil.
    static func within(_ seconds: Double, _ condition: () async throws -> Bool) async throws -> Double? {
        let started = Date()
        while Date().timeIntervalSince(started) < seconds {
            if try await condition() { return Date().timeIntervalSince(started) }
            try await Task.sleep(for: .milliseconds(10))
        }
        return try await condition() ? Date().timeIntervalSince(started) : nil
    }

    static func listedIDs(_ replica: InCTRLServiceTests.Running) async throws -> [String] {
        let (_, listing) = try await replica.json("GET", "/prompts")
        return ((listing["prompt_sets"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }
    }

    static func metric(_ replica: InCTRLServiceTests.Running, _ series: String) async throws -> Double {
        let text = String(decoding: try await replica.send("GET", "/metrics").body, as: UTF8.self)
        let line = text.split(separator: "\n").first { $0.hasPrefix(series + " ") }
        return line.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
    }

    @Test func creationsDeletionsAndThresholdsReachTheOtherReplica() async throws {
        let url = try PostgresServer.running().createDatabase()
        let first = try await PostgresReplicaTests.replica(url)
        defer { Task { await first.stop() } }
        let second = try await PostgresReplicaTests.replica(url)
        defer { Task { await second.stop() } }

        // Registered on the first: the second lists it without being asked about it.
        let (created, registered) = try await first.json(
            "POST", "/prompts", body: try PostgresReplicaTests.registration(["0004_functional", "0009_functional"]),
            contentType: "application/json")
        #expect(created == 201)
        let id = try #require(registered["id"] as? String)
        let seen = try await Self.within(5) { try await Self.listedIDs(second) == [id] }
        print("replica changes: a creation reached the other replica after \(seen.map { String(format: "%.3f", $0) } ?? "never") s")
        #expect(seen != nil, "the second replica never listed the set registered on the first")

        // A manual threshold set on the first is the second's too.
        let (thresholdStatus, _) = try await first.json(
            "PUT", "/prompts/\(id)/threshold", body: Array(#"{"threshold": 0.375}"#.utf8), contentType: "application/json")
        #expect(thresholdStatus == 200)
        let manual = try await Self.within(5) {
            (try await second.json("GET", "/prompts/\(id)").1["manual_threshold"] as? Double) == 0.375
        }
        #expect(manual != nil, "the threshold set on the first replica did not reach the second")

        // Calibration images added on the first change the second's calibration, bit for bit.
        let calibration = [UInt8](try JSONSerialization.data(withJSONObject: [
            "images": [Data(try InCTRLServiceTests.cell("0011_functional")).base64EncodedString()],
        ]))
        let (calibrated, calibratedBody) = try await first.json(
            "POST", "/prompts/\(id)/calibration", body: calibration, contentType: "application/json")
        #expect(calibrated == 200)
        let expected = try #require(calibratedBody["scores"] as? [Double])
        #expect(expected.count == 3)
        let followed = try await Self.within(5) {
            let scores = ((try await second.json("GET", "/prompts/\(id)").1["calibration"] as? [String: Any])?["scores"] as? [Double])
            return scores?.map(\.bitPattern) == expected.map(\.bitPattern)
        }
        #expect(followed != nil, "the calibration changed on the first replica did not reach the second")

        // Deleted through the second: the first stops serving it.
        #expect(try await second.send("DELETE", "/prompts/\(id)").status == 204)
        let gone = try await Self.within(5) { try await Self.listedIDs(first).isEmpty }
        #expect(gone != nil, "the first replica still lists a set deleted through the second")
        let query = try InCTRLServiceTests.cell("0001_defective")
        #expect(try await first.send("POST", "/score?prompt_set=\(id)", body: query, contentType: "image/png").status == 404)
        #expect(try await Self.metric(second, #"inctrl_store_changes_total{kind="created"}"#) >= 1)
        #expect(try await Self.metric(first, #"inctrl_store_changes_total{kind="deleted"}"#) >= 1)
    }

    /// A replica asked to score a set it has not heard of yet (its notice not yet followed)
    /// finds it in the database, loads its features from there, and answers with the bits
    /// of the replica that registered it.
    @Test func aSetNotYetHeardOfIsFoundInTheDatabase() async throws {
        let url = try PostgresServer.running().createDatabase()
        let first = try await PostgresReplicaTests.replica(url)
        defer { Task { await first.stop() } }
        let second = try await PostgresReplicaTests.replica(url)
        defer { Task { await second.stop() } }
        // The second stops following, so only a lookup can find the set.
        await second.service.registry.close()
        let (_, registered) = try await first.json(
            "POST", "/prompts", body: try PostgresReplicaTests.registration(["0004_functional"]), contentType: "application/json")
        let id = try #require(registered["id"] as? String)
        let query = try InCTRLServiceTests.cell("0001_defective")
        let (status, answer) = try await second.json("POST", "/score?prompt_set=\(id)", body: query, contentType: "image/png")
        #expect(status == 200)
        let (_, reference) = try await first.json("POST", "/score?prompt_set=\(id)", body: query, contentType: "image/png")
        #expect((answer["score"] as? Double)?.bitPattern == (reference["score"] as? Double)?.bitPattern)
        #expect(try await Self.metric(second, #"inctrl_feature_lookups_total{source="store"}"#) == 1)
        #expect(try await Self.metric(second, #"inctrl_feature_lookups_total{source="computed"}"#) == 0)
        let unknown = String(repeating: "ab", count: 16)
        #expect(try await second.send("POST", "/score?prompt_set=\(unknown)", body: query, contentType: "image/png").status == 404)
    }

    /// Notices sent while a replica could not listen are lost by PostgreSQL's design; the
    /// replica compares every set with the database when it listens again.
    @Test func changesMissedWhileAwayAreMadeUpFor() async throws {
        let server = try PostgresServer.running()
        let url = try server.createDatabase()
        let first = try await PostgresReplicaTests.replica(url)
        defer { Task { await first.stop() } }
        let second = try await PostgresReplicaTests.replica(url)
        defer { Task { await second.stop() } }
        let (_, kept) = try await first.json(
            "POST", "/prompts", body: try PostgresReplicaTests.registration(["0004_functional"], className: "kept"),
            contentType: "application/json")
        let (_, deleted) = try await first.json(
            "POST", "/prompts", body: try PostgresReplicaTests.registration(["0009_functional"], className: "deleted"),
            contentType: "application/json")
        let keptID = try #require(kept["id"] as? String), deletedID = try #require(deleted["id"] as? String)
        #expect(try await Self.within(5) { Set(try await Self.listedIDs(second)) == [keptID, deletedID] } != nil)

        // The second stops following (as while the database was away); the first changes things.
        await second.service.registry.close()
        #expect(try await first.send("DELETE", "/prompts/\(deletedID)").status == 204)
        let (_, added) = try await first.json(
            "POST", "/prompts", body: try PostgresReplicaTests.registration(["0011_functional"], className: "added"),
            contentType: "application/json")
        let addedID = try #require(added["id"] as? String)
        #expect(Set(try await Self.listedIDs(second)) == [keptID, deletedID])
        // What the listener reports once it listens again.
        await second.service.registry.apply(.resynchronize)
        #expect(Set(try await Self.listedIDs(second)) == [keptID, addedID])

        // End to end: a third replica's listener loses the database and gets it back; a set
        // registered meanwhile or afterwards reaches it without a request.
        let third = try await PostgresReplicaTests.replica(url)
        defer { Task { await third.stop() } }
        #expect(try await Self.within(5) { try await Self.metric(third, #"inctrl_store_changes_total{kind="resynchronize"}"#) >= 1 } != nil)
        try server.takeDown(url)
        try await Task.sleep(for: .milliseconds(1500))
        try server.bringUp(url)
        var registeredAfter: [String: Any] = [:]
        _ = try await Self.within(10) {
            let (status, body) = try await first.json(
                "POST", "/prompts", body: try PostgresReplicaTests.registration(["0002_defective"], className: "after"),
                contentType: "application/json")
            registeredAfter = body
            return status == 201 || status == 200
        }
        let afterID = try #require(registeredAfter["id"] as? String)
        #expect(try await Self.within(10) { try await Self.listedIDs(third).contains(afterID) } != nil)
        #expect(try await Self.metric(third, #"inctrl_store_changes_total{kind="resynchronize"}"#) >= 2, "the listener did not listen again")
    }
}

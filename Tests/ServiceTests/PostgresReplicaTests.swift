import Foundation
import Testing
@testable import PostgresStore
@testable import Service

/// Services as replicas over one PostgreSQL database, in one process: a set registered
/// through one is served by another with the same bits, and an unreachable database answers
/// 503 `store_unavailable`.
@Suite(.serialized, .enabled(if: PostgresServer.isEnabled, Comment(rawValue: PostgresServer.skipMessage)))
struct PostgresReplicaTests {
    static func registration(_ cells: [String], className: String = "solar_cell") throws -> [UInt8] {
        let images = try cells.map { Data(try InCTRLServiceTests.cell($0)).base64EncodedString() }
        return [UInt8](try JSONSerialization.data(withJSONObject: ["class_name": className, "images": images]))
    }

    static func replica(_ url: String) async throws -> InCTRLServiceTests.Running {
        try await InCTRLServiceTests.Running(
            dataDirectory: try PromptSetTestData.scratchDirectory("replica"), store: PostgresStore(url: url, poolSize: 2, connectTimeout: 2)
        ) {
            $0.store = url
        }
    }

    @Test func aSetRegisteredOnOneReplicaScoresTheSameOnAnother() async throws {
        let url = try PostgresServer.running().createDatabase()
        let first = try await Self.replica(url)
        defer { Task { await first.stop() } }
        let (created, registered) = try await first.json(
            "POST", "/prompts", body: try Self.registration(["0004_functional", "0009_functional"]), contentType: "application/json")
        #expect(created == 201)
        let id = try #require(registered["id"] as? String)

        // A replica started afterwards finds the set, its features and its calibration.
        let second = try await Self.replica(url)
        defer { Task { await second.stop() } }
        let query = try InCTRLServiceTests.cell("0001_defective")
        var answers: [[String: Any]] = []
        for replica in [first, second] {
            let (status, result) = try await replica.json("POST", "/score?prompt_set=\(id)", body: query, contentType: "image/png")
            #expect(status == 200)
            answers.append(result)
        }
        let scores = answers.map { ($0["score"] as? Double)?.bitPattern }
        #expect(scores[0] != nil && scores[0] == scores[1], "\(scores)")
        let maps = answers.map { (($0["residual_map"] as? [String: Any])?["values"] as? [Double])?.map(\.bitPattern) }
        #expect(maps[0] != nil && maps[0] == maps[1])
        let thresholds: [UInt64?] = answers.map { (($0["decision"] as? [String: Any])?["threshold"] as? Double)?.bitPattern }
        #expect(thresholds[0] != nil && thresholds[0] == thresholds[1])
        let rows = try PostgresServer.admin(url: url).execute("SELECT kind FROM derived_features ORDER BY kind")
        #expect(rows.count == 2, "features and calibration stored once")
    }

    @Test func theSameSetRegisteredOnTwoReplicasAtOnceIsOneSet() async throws {
        let url = try PostgresServer.running().createDatabase()
        let first = try await Self.replica(url)
        defer { Task { await first.stop() } }
        let second = try await Self.replica(url)
        defer { Task { await second.stop() } }
        let body = try Self.registration(["0004_functional"], className: "cell")
        async let one = first.json("POST", "/prompts", body: body, contentType: "application/json")
        async let two = second.json("POST", "/prompts", body: body, contentType: "application/json")
        let answers = try await [one, two]
        #expect(answers.allSatisfy { [200, 201].contains($0.0) }, "\(answers.map(\.0))")
        #expect(Set(answers.map { $0.1["id"] as? String }).count == 1)
        #expect(Set(answers.map { $0.1["created_at"] as? String }).count == 1, "the replicas disagree on the stored record")
        #expect(try PostgresServer.admin(url: url).execute("SELECT id FROM prompt_sets").count == 1)
    }

    /// The database goes away after start: a registration answers 503 `store_unavailable`
    /// with `Retry-After`, and is served once the database is back.
    @Test func anUnreachableDatabaseAnswers503StoreUnavailable() async throws {
        let server = try PostgresServer.running()
        let url = try server.createDatabase()
        let running = try await InCTRLServiceTests.Running(
            dataDirectory: try PromptSetTestData.scratchDirectory("replica"), store: PostgresStore(url: url, poolSize: 2, connectTimeout: 2)
        ) {
            $0.store = url
            $0.retryAfterSeconds = 4
        }
        defer { Task { await running.stop() } }
        let body = try Self.registration(["0004_functional"])
        #expect(try await running.send("GET", "/readyz").status == 200)
        let (before, registeredBefore) = try await running.json(
            "POST", "/prompts", body: try Self.registration(["0009_functional"], className: "before"), contentType: "application/json")
        #expect(before == 201)
        let beforeID = try #require(registeredBefore["id"] as? String)
        try server.takeDown(url)
        // Readiness follows the database: 503 within 5 s, without a restart.
        try await Task.sleep(for: .milliseconds(1100))
        let started = Date()
        let unready = try await running.send("GET", "/readyz")
        #expect(Date().timeIntervalSince(started) < 5)
        let unreadyBody = (try? JSONSerialization.jsonObject(with: Data(unready.body))) as? [String: Any] ?? [:]
        #expect(unready.status == 503 && InCTRLServiceTests.errorCode(unreadyBody) == "store_unavailable", "\(unready.status) \(unreadyBody)")
        let (status, headers, answer) = try await running.send("POST", "/prompts", body: body, contentType: "application/json")
        let object = (try? JSONSerialization.jsonObject(with: Data(answer))) as? [String: Any] ?? [:]
        #expect(status == 503 && InCTRLServiceTests.errorCode(object) == "store_unavailable", "\(status) \(object)")
        #expect(headers["retry-after"] == "4")
        let (listed, listing) = try await running.json("GET", "/prompts")
        #expect(listed == 200 && ((listing["prompt_sets"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String } == [beforeID])

        try server.bringUp(url)
        var ready = 0
        for _ in 0..<50 where ready != 200 {
            try await Task.sleep(for: .milliseconds(200))
            ready = try await running.send("GET", "/readyz").status
        }
        #expect(ready == 200, "readiness did not come back with the database")
        let (created, _) = try await running.json("POST", "/prompts", body: body, contentType: "application/json")
        #expect(created == 201)
        // Nothing registered before the outage was lost: another replica, started now, serves it.
        let other = try await Self.replica(url)
        defer { Task { await other.stop() } }
        let scored = try await other.send(
            "POST", "/score?prompt_set=\(beforeID)", body: try InCTRLServiceTests.cell("0001_defective"), contentType: "image/png")
        #expect(scored.status == 200)
    }
}

extension PostgresReplicaTests {
    /// A set whose registering replica died after the set's transaction committed and before
    /// its features and calibration were written: another replica computes them at start,
    /// writes them back, and serves the set.
    @Test func aSetStoredWithoutItsDerivedDataIsComputedAtStart() async throws {
        let url = try PostgresServer.running().createDatabase()
        let first = try await Self.replica(url)
        let (_, registered) = try await first.json(
            "POST", "/prompts", body: try Self.registration(["0004_functional", "0009_functional"]), contentType: "application/json")
        let id = try #require(registered["id"] as? String)
        let query = try InCTRLServiceTests.cell("0001_defective")
        let (_, reference) = try await first.json("POST", "/score?prompt_set=\(id)", body: query, contentType: "image/png")
        await first.stop()
        try PostgresServer.admin(url: url).execute("DELETE FROM derived_features")

        let second = try await Self.replica(url)
        defer { Task { await second.stop() } }
        let (listed, listing) = try await second.json("GET", "/prompts")
        #expect(listed == 200 && ((listing["prompt_sets"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String } == [id])
        let (status, answer) = try await second.json("POST", "/score?prompt_set=\(id)", body: query, contentType: "image/png")
        #expect(status == 200 && (answer["score"] as? Double)?.bitPattern == (reference["score"] as? Double)?.bitPattern)
        #expect(try PostgresServer.admin(url: url).execute("SELECT kind FROM derived_features").count == 2)
    }
}

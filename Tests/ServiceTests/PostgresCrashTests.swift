import Foundation
import Testing
@testable import PostgresStore
@testable import Service
#if canImport(Glibc)
import Glibc
#endif

/// `kill -9` of a replica while it registers 16-image sets into PostgreSQL: each set is in
/// the database whole (its 16 images) or not at all, every acknowledged set is there, and
/// another replica serves them.
@Suite(.serialized, .enabled(if: PostgresServer.isEnabled, Comment(rawValue: PostgresServer.skipMessage)))
struct PostgresCrashTests {
    /// Distinct 16-image sets made of the fixture cells in different orders.
    static func candidates(_ count: Int) -> [[String]] {
        let cells = ServerCrashTests.cellNames
        return (0..<count).map { index in
            (0..<16).map { cells[($0 * (index + 1) + index) % cells.count] }
        }
    }

    /// Runs blocking `body` on a thread of its own, off Swift's cooperative pool.
    static func onOwnThread<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
        }
    }

    /// When the replica is killed.
    enum KillMoment: CustomTestStringConvertible, Sendable {
        /// While a registration's transaction is open in the database, between its inserts.
        case insideTheTransaction
        /// As soon as the first set is committed, before its features are written.
        case justAfterTheFirstCommit
        /// This many seconds into the registrations.
        case after(seconds: Double)

        var testDescription: String {
            switch self {
            case .insideTheTransaction: "inside a registration's transaction"
            case .justAfterTheFirstCommit: "just after the first set's commit"
            case let .after(seconds): "\(seconds) s into the registrations"
            }
        }
    }

    @Test(arguments: [KillMoment.insideTheTransaction, .justAfterTheFirstCommit, .after(seconds: 4)])
    func killedWhileRegisteringLeavesNoPartialSet(_ moment: KillMoment) async throws {
        let url = try PostgresServer.running().createDatabase()
        let directory = try PromptSetTestData.scratchDirectory("postgres-crash")
        let candidates = Self.candidates(12)
        let crashing = try ServerProcess(
            model: try InCTRLServiceTests.bundle.get(), dataDirectory: directory.appendingPathComponent("a"),
            environment: ["INCTRL_STORE": url])
        try await crashing.waitUntilReady()
        let registering = ServerCrashTests.registerInTurn(candidates, on: crashing)
        switch moment {
        case .insideTheTransaction:
            // The server's own view of its sessions: a backend of this database inside a
            // transaction that has inserted images and not committed. Polled on a thread of
            // its own: a tight loop of blocking libpq calls would hold a cooperative thread for
            // seconds, and the other tests' services answer from that pool.
            let database = String(url.split(separator: "/").last!)
            let caught = try await Self.onOwnThread { () throws -> Bool in
                let admin = PostgresServer.admin(url: url)
                let deadline = Date().addingTimeInterval(60)
                while Date() < deadline {
                    let open = try admin.execute(
                        """
                        SELECT pid FROM pg_stat_activity
                        WHERE datname = $1 AND pid <> pg_backend_pid() AND xact_start IS NOT NULL
                          AND query LIKE 'INSERT INTO prompt_set_images%'
                        """,
                        [.text(database)])
                    if open.count > 0 { return true }
                }
                return false
            }
            #expect(caught, "no registration's transaction was seen open")
        case .justAfterTheFirstCommit:
            let committed = try await Self.onOwnThread { () throws -> Bool in
                let admin = PostgresServer.admin(url: url)
                let deadline = Date().addingTimeInterval(60)
                while Date() < deadline {
                    if try admin.execute("SELECT id FROM prompt_sets").count > 0 { return true }
                }
                return false
            }
            #expect(committed, "no set was committed")
        case let .after(seconds):
            try await Task.sleep(for: .seconds(seconds))
        }
        let ended = try await crashing.stop(with: SIGKILL)
        let acknowledged = await registering.value
        #expect(ended.reason == .uncaughtSignal && ended.status == SIGKILL)
        #expect(acknowledged.count < candidates.count, "the kill came while sets were still being registered")

        let admin = PostgresServer.admin(url: url)
        let rows = try admin.execute(
            """
            SELECT s.id, count(i.position)::text FROM prompt_sets s
            LEFT JOIN prompt_set_images i ON i.prompt_set = s.id AND i.kind = 'prompt' GROUP BY s.id
            """)
        var stored: [String: Int] = [:]
        for row in 0..<rows.count { stored[try rows.text(row, 0)] = try rows.int(row, 1) }
        #expect(stored.values.allSatisfy { $0 == 16 }, "a set is in the database with only some of its images: \(stored)")
        for names in acknowledged {
            #expect(stored[try ServerCrashTests.id(names)] == 16, "an acknowledged set is missing")
        }
        print("postgres crash \(moment.testDescription): \(acknowledged.count) acknowledged, \(stored.count) stored, all whole")

        // Another replica serves every stored set.
        let other = try ServerProcess(
            model: try InCTRLServiceTests.bundle.get(), dataDirectory: directory.appendingPathComponent("b"),
            environment: ["INCTRL_STORE": url])
        try await other.waitUntilReady()
        let listing = try await other.send("GET", "/prompts").object()
        let listed = Set(((listing["prompt_sets"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String })
        #expect(listed == Set(stored.keys), "the other replica's log: \(other.logLines)")
        if let first = stored.keys.sorted().first {
            let scored = try await other.send(
                "POST", "/score?prompt_set=\(first)", body: try InCTRLServiceTests.cell("0001_defective"), contentType: "image/png")
            #expect(scored.status == 200)
        }
        _ = try await other.stop(with: SIGTERM)
    }
}

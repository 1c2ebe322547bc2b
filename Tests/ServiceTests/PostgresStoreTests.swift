import Foundation
import Testing
@testable import PostgresStore
@testable import Service

/// What only the PostgreSQL store has: migrations shared by replicas, an unreachable
/// database, a schema from a newer build. The contract it shares with the file store is in
/// ``PromptSetStoreContractTests``.
@Suite(.enabled(if: PostgresServer.isEnabled, Comment(rawValue: PostgresServer.skipMessage)))
struct PostgresStoreTests {
    /// Replicas starting together: every store opens, and each migration is applied once.
    @Test func concurrentOpensApplyEachMigrationOnce() async throws {
        let url = try PostgresServer.running().createDatabase()
        let stores = (0..<4).map { _ in PostgresStore(url: url, poolSize: 1) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for store in stores { group.addTask { try await store.open() } }
            try await group.waitForAll()
        }
        #expect(stores.allSatisfy { $0.isOpen })
        let rows = try PostgresServer.admin(url: url).execute("SELECT version::text FROM inctrl_schema_migrations ORDER BY version")
        #expect(try (0..<rows.count).map { try rows.int($0, 0) } == PostgresSchema.migrations.map(\.version))
    }

    @Test func aDatabaseNobodyListensForIsUnavailable() async throws {
        let store = PostgresStore(url: "postgres://postgres:secret@127.0.0.1:\(try PostgresServer.freePort())/none", poolSize: 1, connectTimeout: 2)
        await #expect {
            try await store.open()
        } throws: { error in
            guard case .unavailable(let reason) = error as? PromptSetStoreError else { return false }
            return !reason.contains("secret") && reason.contains("postgres:***@127.0.0.1")
        }
        #expect(!store.isOpen)
    }

    /// A database that goes away under an open store: writes are unavailable (nothing
    /// changed), reads of derived data miss, and once it is back the store works again.
    @Test func aDatabaseThatGoesDownIsUnavailableUntilItIsBack() async throws {
        let server = try PostgresServer.running()
        let url = try server.createDatabase()
        let store = PostgresStore(url: url, poolSize: 2, connectTimeout: 2)
        try await store.open()
        let images = PromptSetTestData.images(set: 20, shots: 1)
        let record = PromptSetRecord(id: PromptSetID(className: "tile", images: images), className: "tile", images: images)

        try server.takeDown(url)
        await #expect {
            try await store.save(record, images: images)
        } throws: { error in
            if case .unavailable = error as? PromptSetStoreError { return true }
            return false
        }
        if case .miss = await store.textPrior(className: "tile", key: PromptSetStoreContractTests.keyA) {} else {
            Issue.record("a lookup without a database did not miss")
        }

        try server.bringUp(url)
        #expect(try await store.save(record, images: images) == record)
        #expect(try await store.images(of: record) == images)
    }

    @Test func aSchemaFromANewerBuildIsRefused() async throws {
        let url = try PostgresServer.running().createDatabase()
        try await PostgresStore(url: url, poolSize: 1).open()
        try PostgresServer.admin(url: url).execute("INSERT INTO inctrl_schema_migrations (version) VALUES (999)")
        await #expect {
            try await PostgresStore(url: url, poolSize: 1).open()
        } throws: { error in
            guard case .database(_, let reason) = error as? PromptSetStoreError else { return false }
            return reason.contains("version 999")
        }
    }

    @Test func damagedDerivedRowsAreDiscardedAndDeleted() async throws {
        let fixture = try await StoreFixture(.postgres)
        let images = PromptSetTestData.images(set: 21, shots: 1)
        let record = try await fixture.store.save(PromptSetStoreContractTests.record("cap", images), images: images)
        let key = PromptSetStoreContractTests.keyA
        try await fixture.store.saveFeatures(PromptSetStoreContractTests.features(shots: 1, seed: 3), of: record.id, key: key)
        let admin = PostgresServer.admin(url: fixture.location)
        try admin.execute("UPDATE derived_features SET payload = set_byte(payload, 9, get_byte(payload, 9) # 1)")
        let lookup = await fixture.store.features(of: record, key: key)
        #expect(lookup.discardedReason?.contains("does not match its SHA-256") == true, "\(lookup)")
        #expect(try admin.execute("SELECT 1 FROM derived_features").isEmpty)
        if case .miss = await fixture.store.features(of: record, key: key) {} else { Issue.record("a discarded row was read again") }
    }

    @Test func theURLIsLoggedWithoutItsPassword() {
        #expect(StoreLocation.redact("postgres://inctrl:s3cr%40t@db.internal:5432/inctrl?sslmode=require")
            == "postgres://inctrl:***@db.internal:5432/inctrl?sslmode=require")
        #expect(StoreLocation.redact("postgresql://db/inctrl?user=x&password=hunter2&sslmode=require")
            == "postgresql://db/inctrl?user=x&password=***&sslmode=require")
        #expect(StoreLocation.redact("postgres://inctrl@db/inctrl") == "postgres://inctrl@db/inctrl")
        #expect(StoreLocation("file") == .file)
        #expect(StoreLocation("postgres://db/x") == .postgres(url: "postgres://db/x"))
        #expect(StoreLocation("postgres://") == nil && StoreLocation("mysql://db") == nil && StoreLocation("") == nil)
    }
}

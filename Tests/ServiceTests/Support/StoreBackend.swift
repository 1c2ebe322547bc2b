import Foundation
import Testing
@testable import PostgresStore
@testable import Service

/// The store backends the contract tests run against: every backend keeps the contract of
/// ``PromptSetStore`` the same way, so one test covers both.
enum StoreBackend: String, Sendable, CustomTestStringConvertible {
    case file
    case postgres

    /// The backends to test here: PostgreSQL unless it is neither installed nor required
    /// (``PostgresServer/isEnabled``).
    static var all: [StoreBackend] { PostgresServer.isEnabled ? [.file, .postgres] : [.file] }

    var testDescription: String { rawValue }
}

/// One backend's store over a fresh data directory or database, opened, with what the
/// tests need besides the protocol: a second store over the same place (a restart, or
/// another replica) and a way to damage a stored image.
final class StoreFixture: Sendable {
    let backend: StoreBackend
    /// The data directory (file) or database URL (postgres).
    let location: String
    let store: any PromptSetStore

    init(_ backend: StoreBackend) async throws {
        self.backend = backend
        switch backend {
        case .file:
            location = try PromptSetTestData.scratchDirectory("store-contract").path
        case .postgres:
            location = try PostgresServer.running().createDatabase()
        }
        store = Self.makeStore(backend, location)
        _ = try await store.open()
    }

    deinit {
        if backend == .file { try? FileManager.default.removeItem(atPath: location) }
    }

    private static func makeStore(_ backend: StoreBackend, _ location: String) -> any PromptSetStore {
        switch backend {
        case .file: FileStore(dataDirectory: URL(fileURLWithPath: location))
        case .postgres: PostgresStore(url: location, poolSize: 2)
        }
    }

    /// A store over the same place, not yet opened.
    func another() -> any PromptSetStore { Self.makeStore(backend, location) }

    /// A store over the same place, opened, as after a restart.
    func reopened() async throws -> (any PromptSetStore, StoreLoadReport) {
        let store = another()
        let report = try await store.open()
        return (store, report)
    }

    /// Flips one bit of image `index` of the set `id` where it is stored.
    func damageImage(_ index: Int, of record: PromptSetRecord) async throws {
        switch backend {
        case .file:
            let path = URL(fileURLWithPath: location).appendingPathComponent("prompt-sets").appendingPathComponent(record.id.hex)
                .appendingPathComponent(PromptSetManifest.imagePath(index: index, mediaType: record.images[index].mediaType))
            var bytes = try Data(contentsOf: path)
            bytes[50] ^= 0x40
            try bytes.write(to: path)
        case .postgres:
            try PostgresServer.admin(url: location).execute(
                """
                UPDATE prompt_set_images SET bytes = set_byte(bytes, 50, get_byte(bytes, 50) # 64)
                WHERE prompt_set = $1 AND kind = 'prompt' AND position = $2::int
                """,
                [.text(record.id.hex), .int(index)])
        }
    }
}

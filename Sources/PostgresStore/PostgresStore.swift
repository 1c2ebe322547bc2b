import Foundation
import InCTRL
import Service
import Synchronization
import Tensor

/// A ``Service/PromptSetStore`` in a PostgreSQL database, which several replicas of the
/// service share: the `store` setting set to `postgres://user:password@host:port/db`.
///
/// Tables (``PostgresSchema``, migrated at ``open()``): `prompt_sets` (id, class name,
/// created_at, manual threshold), `prompt_set_images` (each image and calibration image
/// with its media type, size and SHA-256, the bytes as received), `derived_features`
/// (features and calibrations per set and model) and `text_priors` (per class name and
/// model); the model is ``Service/DerivedFeatureKey/modelIdentity``, the weights' SHA-256
/// plus the precision.
///
/// The contract of ``Service/PromptSetStore``, kept by the database:
///
/// - ``save(_:images:)`` is one transaction; `INSERT … ON CONFLICT DO NOTHING` makes the same
///   set saved by two replicas at once one set, and the loser returns the winner's record.
/// - ``open()`` trusts the sizes and SHA-256 in the rows (reading every image would make a
///   start cost as much as a full download); images are checked against them whenever they
///   are read (``images(of:)``, ``calibrationImages(of:)``). A set that fails is taken out
///   of service: its rows move to a renamed id with the reason, kept for inspection, and the
///   id is free to register again.
/// - Derived data is checked on every read (length against the model's shapes, SHA-256
///   against the row's); a row that fails is deleted and reported as discarded.
/// - A database that cannot be reached answers ``Service/PromptSetStoreError/unavailable(reason:)``.
///
/// Replicas follow each other through `LISTEN`/`NOTIFY` (``PostgresChangeListener``): every
/// write sends its notice inside its own transaction, so it goes out when the write commits.
///
/// Every call runs on the ``PostgresConnectionPool``'s own threads, never on Swift's
/// cooperative pool.
public final class PostgresStore: SharedPromptSetStore {
    /// The database URL with its password replaced, for logs.
    public let redactedURL: String

    let pool: PostgresConnectionPool
    let phase = Mutex(Phase.closed)
    /// Names this store instance in the notices it sends, so that it skips its own.
    let origin = UUID().uuidString.lowercased()
    private let listener: PostgresChangeListener

    enum Phase { case closed, opening, open }

    /// A store over the database `url` names, with `poolSize` connections; nothing is
    /// connected until ``open()``.
    ///
    /// - Parameters:
    ///   - connectTimeout: seconds a connection attempt may take (libpq's `connect_timeout`;
    ///     a `connect_timeout` in the URL wins).
    ///   - statementTimeout: milliseconds one statement may run on the server.
    public init(url: String, poolSize: Int = 4, connectTimeout: Int = 5, statementTimeout: Int = 30_000) {
        redactedURL = StoreLocation.redact(url)
        pool = PostgresConnectionPool(url: url, size: poolSize, connectTimeout: connectTimeout, statementTimeout: statementTimeout)
        listener = PostgresChangeListener(url: url, origin: origin, connectTimeout: connectTimeout)
    }

    public func changes() -> AsyncStream<PromptSetChange> {
        listener.changes()
    }

    public func record(_ id: PromptSetID) async throws(PromptSetStoreError) -> PromptSetRecord? {
        try await storedRecord(id)
    }

    public func records() async throws(PromptSetStoreError) -> [PromptSetRecord] {
        let (sets, images) = try await run("list the prompt sets") { connection throws(PostgresError) in try Self.listing(connection) }
        return Self.records(sets: sets, images: images).compactMap { try? $0.get() }
    }

    /// Sends the notice of a change to the set `id` (`created`, `deleted` or `changed`) to
    /// every replica, when the transaction running on `connection` commits.
    func notify(_ kind: String, _ id: PromptSetID, on connection: PostgresConnection) throws(PostgresError) {
        try connection.execute(
            "SELECT pg_notify($1, $2)",
            [.text(PostgresChangeListener.channel), .text(PostgresChangeListener.payload(kind, id, origin: origin))])
    }

    /// True once ``open()`` has finished.
    public var isOpen: Bool {
        phase.withLock { $0 == .open }
    }

    public func save(_ record: PromptSetRecord, images: [[UInt8]]) async throws(PromptSetStoreError) -> PromptSetRecord {
        precondition(images.count == record.images.count, "a record must describe every image saved with it")
        // The set that holds the id may be deleted between the insert that found it and the
        // read of its record; then the insert is tried again.
        for _ in 0..<3 {
            let inserted = try await run("save prompt set \(record.id)") { connection throws(PostgresError) in
                try connection.transaction { () throws(PostgresError) -> Bool in
                    let insert = try connection.execute(
                        """
                        INSERT INTO prompt_sets (id, class_name, created_at, manual_threshold)
                        VALUES ($1, $2, to_timestamp($3::double precision), $4::real)
                        ON CONFLICT (id) DO NOTHING
                        """,
                        [.text(record.id.hex), .text(record.className), .text(String(record.createdAt.timeIntervalSince1970)),
                         record.manualThreshold.map { .text(String($0)) } ?? .null])
                    guard insert.affected == 1 else { return false }
                    try Self.insertImages(record.images, images, kind: "prompt", first: 0, of: record.id, on: connection)
                    try self.notify("created", record.id, on: connection)
                    return true
                }
            }
            if inserted { return record }
            if let existing = try await storedRecord(record.id) { return existing }
        }
        throw .unavailable(reason: "prompt set \(record.id) was deleted and saved again by others while this save ran; retry")
    }

    public func delete(_ id: PromptSetID) async throws(PromptSetStoreError) -> Bool {
        // Images and derived features go with it (ON DELETE CASCADE), in the same statement.
        let deleted = try await run("delete prompt set \(id)") { connection throws(PostgresError) in
            try connection.transaction { () throws(PostgresError) -> Int in
                let deleted = try connection.execute(
                    "DELETE FROM prompt_sets WHERE id = $1 AND quarantine_reason IS NULL", [.text(id.hex)]).affected
                if deleted > 0 { try self.notify("deleted", id, on: connection) }
                return deleted
            }
        }
        return deleted > 0
    }

    public func images(of record: PromptSetRecord) async throws(PromptSetStoreError) -> [[UInt8]] {
        try await readImages(record.images, kind: "prompt", of: record.id)
    }

    public func calibrationImages(of record: PromptSetRecord) async throws(PromptSetStoreError) -> [[UInt8]] {
        try await readImages(record.calibrationImages, kind: "calibration", of: record.id)
    }

    /// One transaction: the manual threshold, the new calibration images (replacing any
    /// at their positions), and no calibration image beyond the record's.
    public func update(_ record: PromptSetRecord, newCalibrationImages: [[UInt8]]) async throws(PromptSetStoreError) {
        let first = record.calibrationImages.count - newCalibrationImages.count
        precondition(first >= 0, "the record lists fewer calibration images than are being added")
        let found = try await run("update prompt set \(record.id)") { connection throws(PostgresError) in
            try connection.transaction { () throws(PostgresError) -> Bool in
                let updated = try connection.execute(
                    "UPDATE prompt_sets SET manual_threshold = $2::real WHERE id = $1 AND quarantine_reason IS NULL",
                    [.text(record.id.hex), record.manualThreshold.map { .text(String($0)) } ?? .null])
                guard updated.affected == 1 else { return false }
                try connection.execute(
                    "DELETE FROM prompt_set_images WHERE prompt_set = $1 AND kind = 'calibration' AND position >= $2::int",
                    [.text(record.id.hex), .int(record.calibrationImages.count)])
                try Self.insertImages(
                    Array(record.calibrationImages[first...]), newCalibrationImages, kind: "calibration", first: first,
                    of: record.id, on: connection)
                try self.notify("changed", record.id, on: connection)
                return true
            }
        }
        guard found else { throw .notFound(record.id) }
    }

    /// Inserts `images` described by `stored` as positions `first`… of `kind`, replacing
    /// rows already there.
    private static func insertImages(
        _ stored: [StoredPromptImage], _ images: [[UInt8]], kind: String, first: Int, of id: PromptSetID,
        on connection: PostgresConnection
    ) throws(PostgresError) {
        for (offset, (image, bytes)) in zip(stored, images).enumerated() {
            try connection.execute(
                """
                INSERT INTO prompt_set_images (prompt_set, kind, position, media_type, byte_count, sha256, bytes)
                VALUES ($1, $2, $3::int, $4, $5::int, $6, $7)
                ON CONFLICT (prompt_set, kind, position) DO UPDATE SET
                    media_type = excluded.media_type, byte_count = excluded.byte_count,
                    sha256 = excluded.sha256, bytes = excluded.bytes
                """,
                [.text(id.hex), .text(kind), .int(first + offset), .text(image.mediaType.rawValue), .int(image.byteCount),
                 .text(image.sha256), .bytes(bytes)])
        }
    }

    /// The images of `kind` of the set `id`, each checked against `stored`; a set that
    /// fails is quarantined and reported damaged.
    private func readImages(_ stored: [StoredPromptImage], kind: String, of id: PromptSetID) async throws(PromptSetStoreError) -> [[UInt8]] {
        let rows = try await run("read the images of prompt set \(id)") { connection throws(PostgresError) -> PostgresRows? in
            let set = try connection.execute("SELECT 1 FROM prompt_sets WHERE id = $1 AND quarantine_reason IS NULL", [.text(id.hex)])
            guard !set.isEmpty else { return nil }
            return try connection.execute(
                // Ordered by the integer column, not by the output column of the same name
                // (text, which would put 10 before 2).
                "SELECT i.position::text, i.bytes FROM prompt_set_images i WHERE i.prompt_set = $1 AND i.kind = $2 ORDER BY i.position",
                [.text(id.hex), .text(kind)])
        }
        guard let rows else { throw .notFound(id) }
        var images: [[UInt8]] = []
        var defect: String?
        if rows.count != stored.count {
            defect = "it holds \(rows.count) \(kind) images, its record \(stored.count)"
        } else {
            for (index, image) in stored.enumerated() {
                guard let position = try? rows.int(index, 0), position == index, let bytes = try? rows.bytes(index, 1) else {
                    defect = "\(kind) image \(index) is missing"
                    break
                }
                guard bytes.count == image.byteCount else {
                    defect = "\(kind) image \(index) has \(bytes.count) bytes, its record \(image.byteCount)"
                    break
                }
                guard SHA256.hex(bytes) == image.sha256 else {
                    defect = "\(kind) image \(index) does not match its SHA-256"
                    break
                }
                images.append(bytes)
            }
        }
        if let defect {
            await quarantine(id, reason: defect)
            throw .damaged(id, reason: defect)
        }
        return images
    }

    /// Takes the set `id` out of service, keeping its rows: its id becomes
    /// `<id>.quarantined-<time>-<random>` (images and features follow) and the reason is
    /// kept beside it. Best effort: a set that stays is found damaged again on its next read.
    func quarantine(_ id: PromptSetID, reason: String) async {
        _ = try? await unchecked("quarantine prompt set \(id)") { connection throws(PostgresError) in
            try connection.transaction { () throws(PostgresError) in
                try self.notify("deleted", id, on: connection)
                try connection.execute(
                """
                UPDATE prompt_sets
                SET id = id || '.quarantined-' || to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD"T"HH24MISS') || '-' || substr(md5(random()::text), 1, 8),
                    quarantine_reason = $2
                WHERE id = $1 AND quarantine_reason IS NULL
                """,
                [.text(id.hex), .text(reason)])
            }
        }
    }

    /// The record stored under `id`, or nil when there is none.
    func storedRecord(_ id: PromptSetID) async throws(PromptSetStoreError) -> PromptSetRecord? {
        let found = try await run("read prompt set \(id)") { connection throws(PostgresError) -> (PostgresRows, PostgresRows)? in
            try connection.transaction { () throws(PostgresError) -> (PostgresRows, PostgresRows)? in
            // One snapshot for both reads, so a deletion in between cannot leave a set without images.
            try connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            let sets = try connection.execute(
                """
                SELECT id, class_name, extract(epoch FROM created_at)::text, manual_threshold::text
                FROM prompt_sets WHERE id = $1 AND quarantine_reason IS NULL
                """,
                [.text(id.hex)])
            guard !sets.isEmpty else { return nil }
            let images = try connection.execute(
                """
                SELECT prompt_set, kind, position::text, media_type, byte_count::text, sha256
                FROM prompt_set_images i WHERE i.prompt_set = $1 ORDER BY i.kind, i.position
                """,
                [.text(id.hex)])
            return (sets, images)
            }
        }
        guard let (sets, images) = found else { return nil }
        switch Self.records(sets: sets, images: images).first {
        case let .success(record)?: return record
        case let .failure(defect)?: throw .damaged(id, reason: defect.reason)
        case nil: return nil
        }
    }

    /// Asks the database a trivial question over a pooled connection.
    public func checkAvailable() async throws(PromptSetStoreError) {
        _ = try await run("reach the database") { connection throws(PostgresError) in try connection.execute("SELECT 1") }
    }

    /// Runs `body` on a pooled connection once the store is open, turning its failures into
    /// the store's errors.
    func run<Value: Sendable>(
        _ operation: String, _ body: @escaping @Sendable (PostgresConnection) throws(PostgresError) -> Value
    ) async throws(PromptSetStoreError) -> Value {
        guard isOpen else { throw .notOpen }
        return try await unchecked(operation, body)
    }

    /// ``run(_:_:)`` without the check that the store is open, for ``open()`` itself.
    func unchecked<Value: Sendable>(
        _ operation: String, _ body: @escaping @Sendable (PostgresConnection) throws(PostgresError) -> Value
    ) async throws(PromptSetStoreError) -> Value {
        do {
            return try await pool.withConnection(body)
        } catch {
            throw error.isTransient
                ? .unavailable(reason: "cannot \(operation) at \(redactedURL): \(error)")
                : .database(operation: operation, reason: "\(error)")
        }
    }
}

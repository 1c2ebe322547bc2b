/// The store's tables, created and changed only by numbered migrations.
///
/// ``migrate(_:)`` runs in one transaction holding `pg_advisory_xact_lock(advisoryLockKey)`:
/// replicas starting together queue on the lock, the first applies what is missing, and the
/// others find it applied. Each applied version is a row of `inctrl_schema_migrations`. A
/// database migrated by a newer build (a version this build does not know) is refused
/// rather than used with a schema it may misread. Migrations are never edited once
/// released; a change is a new migration.
enum PostgresSchema {
    /// A migration: its version and its statements, run in order.
    struct Migration: Sendable {
        let version: Int
        let statements: [String]
    }

    /// The key of the advisory lock migrations hold: "inctrl" in ASCII, as a bigint.
    static let advisoryLockKey: Int64 = 115_922_835_894_892

    /// Every migration, in version order.
    static let migrations: [Migration] = [
        Migration(version: 1, statements: [
            // A quarantined set keeps its rows under a renamed id (the foreign keys follow
            // with ON UPDATE CASCADE), so the id is free to register again.
            """
            CREATE TABLE prompt_sets (
                id text PRIMARY KEY,
                class_name text NOT NULL,
                created_at timestamptz NOT NULL,
                manual_threshold real,
                quarantine_reason text
            )
            """,
            """
            CREATE TABLE prompt_set_images (
                prompt_set text NOT NULL REFERENCES prompt_sets (id) ON DELETE CASCADE ON UPDATE CASCADE,
                kind text NOT NULL CHECK (kind IN ('prompt', 'calibration')),
                position int NOT NULL CHECK (position >= 0),
                media_type text NOT NULL,
                byte_count int NOT NULL,
                sha256 text NOT NULL,
                bytes bytea NOT NULL,
                PRIMARY KEY (prompt_set, kind, position)
            )
            """,
            """
            CREATE TABLE derived_features (
                prompt_set text NOT NULL REFERENCES prompt_sets (id) ON DELETE CASCADE ON UPDATE CASCADE,
                model text NOT NULL,
                kind text NOT NULL CHECK (kind IN ('features', 'calibration')),
                shots int NOT NULL,
                extra int NOT NULL,
                payload bytea NOT NULL,
                sha256 text NOT NULL,
                PRIMARY KEY (prompt_set, model, kind)
            )
            """,
            """
            CREATE TABLE text_priors (
                class_name text NOT NULL,
                model text NOT NULL,
                payload bytea NOT NULL,
                sha256 text NOT NULL,
                PRIMARY KEY (class_name, model)
            )
            """,
            // Encoded images and float tensors do not compress: store them out of line
            // without trying.
            "ALTER TABLE prompt_set_images ALTER COLUMN bytes SET STORAGE EXTERNAL",
            "ALTER TABLE derived_features ALTER COLUMN payload SET STORAGE EXTERNAL",
            "ALTER TABLE text_priors ALTER COLUMN payload SET STORAGE EXTERNAL",
        ]),
    ]

    /// Applies every migration the database lacks and returns their versions.
    static func migrate(_ connection: PostgresConnection) throws(PostgresError) -> [Int] {
        try connection.transaction { () throws(PostgresError) -> [Int] in
            try connection.execute("SELECT pg_advisory_xact_lock($1::bigint)", [.text(String(advisoryLockKey))])
            try connection.execute("""
                CREATE TABLE IF NOT EXISTS inctrl_schema_migrations (
                    version int PRIMARY KEY,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """)
            let rows = try connection.execute("SELECT version::text FROM inctrl_schema_migrations")
            var applied: Set<Int> = []
            for row in 0..<rows.count { applied.insert(try rows.int(row, 0)) }
            let latest = migrations.last?.version ?? 0
            if let newest = applied.max(), newest > latest {
                throw .unexpectedResult(
                    "the database schema is at version \(newest), newer than this build's \(latest); run the newer inctrl, or point store at another database")
            }
            var appliedNow: [Int] = []
            for migration in migrations where !applied.contains(migration.version) {
                for statement in migration.statements { try connection.execute(statement) }
                try connection.execute("INSERT INTO inctrl_schema_migrations (version) VALUES ($1::int)", [.int(migration.version)])
                appliedNow.append(migration.version)
            }
            return appliedNow
        }
    }
}

import Logging
import PostgresNIO
import SyncCore

extension PostgresDatabase {
    /// The key of the advisory lock every migration's transaction holds: "FieldSyn" in ASCII. Fixed, so that
    /// every instance of every version takes the same one.
    static let migrationLock: Int64 = 0x4669_656C_6453_796E

    /// Applies the migrations this database lacks, in order; returns the versions applied (none when it is
    /// up to date).
    ///
    /// Each migration runs in a transaction of its own, with the row recording it in `_migrations`
    /// (version, name, applied_at): it is applied entirely or not at all, and never twice. Every such
    /// transaction first takes an advisory lock (``migrationLock``), so that instances starting together
    /// apply each migration once, one after the other: an instance that finds a migration recorded when it
    /// gets the lock skips it. Migrations run without the statement timeout: one may rewrite a large table,
    /// and an instance waits for another's to end rather than fail.
    ///
    /// Throws `.schema` when `migrations` are not numbered 1, 2, 3…, `.storage` when the database was
    /// migrated by a newer version (this one must not write it) or records another name for a version (a
    /// database of another build), and what a migration throws (its transaction rolled back).
    @discardableResult
    package func migrate(_ migrations: [PostgresMigration]) async throws -> [Int] {
        for (index, migration) in migrations.enumerated() where migration.version != index + 1 {
            throw SyncError(
                .schema,
                "Migration '\(migration.name)' has version \(migration.version) where \(index + 1) was expected: "
                    + "migrations are numbered 1, 2, 3… in the order they run.")
        }
        var applied: [Int] = []
        for migration in migrations {
            let known = migrations.count
            let ran = try await withTransaction { connection in
                let logger = self.logger
                try await connection.run("SET LOCAL statement_timeout = 0", logger: logger)
                try await connection.run("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: logger)
                try await connection.run(
                    """
                    CREATE TABLE IF NOT EXISTS _migrations (
                        version INTEGER PRIMARY KEY,
                        name TEXT NOT NULL,
                        applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
                    )
                    """, logger: logger)
                var recorded: [Int: String] = [:]
                let rows = try await connection.run("SELECT version, name FROM _migrations", logger: logger)
                for try await (version, name) in rows.decode((Int, String).self) { recorded[version] = name }
                try self.check(recorded, known: known)
                if let name = recorded[migration.version] {
                    guard name == migration.name else {
                        throw SyncError(
                            .storage,
                            "The PostgreSQL database '\(self.configuration.database)' records migration "
                                + "\(migration.version) as '\(name)', where this version has '\(migration.name)': it "
                                + "was made by another build of FieldSync. Use that build, or a new database.")
                    }
                    return false
                }
                try await migration.apply(connection, logger)
                try await connection.run(
                    "INSERT INTO _migrations (version, name) VALUES (\(migration.version), \(migration.name))",
                    logger: logger)
                return true
            }
            if ran {
                applied.append(migration.version)
                logger.notice(
                    "applied a migration",
                    metadata: ["store.migration": "\(migration.version)", "store.migration.name": "\(migration.name)"])
            }
        }
        return applied
    }

    /// Refuses a database that a newer version migrated: this one would write it without knowing its tables.
    private func check(_ recorded: [Int: String], known: Int) throws {
        guard let newest = recorded.keys.max(), newest > known else { return }
        throw SyncError(
            .storage,
            "The PostgreSQL database '\(configuration.database)' was migrated by a newer FieldSync (its schema is "
                + "at version \(newest); this sync-server knows up to \(known)): run the newer sync-server.")
    }
}

extension PostgresDatabase {
    /// Makes the table of each collection and the columns of fields added to the schema since (safe to run
    /// again, by several instances at once: under the migrations' lock); returns central's node id.
    func prepareTables(_ layouts: [PostgresLayout]) async throws -> NodeID {
        try await withTransaction { connection in
            let logger = self.logger
            try await connection.run("SET LOCAL statement_timeout = 0", logger: logger)
            try await connection.run("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: logger)
            for layout in layouts {
                for statement in layout.createSQL {
                    try await connection.run(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
            }
            let rows = try await connection.run("SELECT node_id FROM _meta WHERE id = 1", logger: logger)
            for try await raw in rows.decode(Int64.self) {
                if let node = NodeID(rawValue: raw) { return node }
            }
            throw SyncError(.corruptReplica, "Central's _meta row is missing or names no valid node id.")
        }
    }
}

extension PostgresDatabase {
    /// The versions recorded in `_migrations`, in order.
    package func appliedMigrations() async throws -> [Int] {
        try await withConnection { connection in
            var versions: [Int] = []
            let rows = try await connection.run(
                "SELECT version FROM _migrations ORDER BY version", logger: self.logger)
            for try await version in rows.decode(Int.self) { versions.append(version) }
            return versions
        }
    }
}

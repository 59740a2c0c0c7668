import Logging
import PostgresNIO
package import SyncCore

/// Central's store on PostgreSQL, for several stateless `sync-server` instances in front of one database.
///
/// Each method means what ``SyncStore``'s of the same name means on the SQLite replica (``ReplicaStore``),
/// shown by tests that give both engines the same input: tokens and settings, the records' merge
/// (`+Merge`, `+Rows`), the change feed (`+Feed`, gap-free across instances: decision record 0013), leases,
/// statuses, relayed conflicts and the nodes seen, a client's push (`+Apply`: scope, required fields,
/// references, the domain's rules, refusals kept, the lease and the echo in its transaction).
///
/// Every method is one statement or one short transaction on a connection of the pool; values always
/// travel as bound parameters, never inside the SQL. Failures are `SyncError`s.
package final class PostgresStore: Sendable {
    /// The pool, shared with whoever opened the store.
    package let database: PostgresDatabase
    /// The collections central keeps, each in a table of its own (``PostgresLayout``).
    package let schema: Schema
    let layouts: [PostgresLayout]
    /// Central's node id: it stamps the server's own writes and answers every request (in `_meta`, the
    /// same for every instance).
    package let nodeID: NodeID
    /// How far a stamp a client pushes may be ahead of the server's clock (ms).
    package let maxClockDriftMillis: UInt64
    /// Facts read for pulls, sent again without reading them whole (decision record 0022).
    let facts: FactCache
    /// A pull page's first statement, prepared once per connection (``overview``).
    let overviewStatement: ReusedStatement
    /// How many facts are kept for pulls now, and at most (for tests).
    package var keptFacts: Int { facts.count.facts }
    package var keptStretchRows: Int { facts.count.stretchRows }
    package static var maxKeptStretchRows: Int { FactCache.maxRowsPerStretch }
    /// Forgets the facts kept, not the stretches (for tests: as if they had been evicted).
    package func forgetKeptFacts() { facts.forgetFacts() }
    package static var maxKeptFacts: Int { FactCache.maxEntries }

    /// Opens the store on `database`: checks that the server can be used (``PostgresDatabase/checkConnection()``:
    /// a bad password or a missing database throws at once, saying so), applies the migrations it lacks
    /// (``PostgresMigration/central``), and makes the tables of `schema`'s collections (and the columns of
    /// fields added since).
    package init(
        _ database: PostgresDatabase, schema: Schema,
        maxClockDriftMillis: UInt64 = HybridLogicalClock.defaultMaxDriftMillis
    ) async throws {
        self.database = database
        self.schema = schema
        self.layouts = schema.collections.map(PostgresLayout.init)
        self.maxClockDriftMillis = maxClockDriftMillis
        facts = FactCache(collections: layouts.count)
        overviewStatement = ReusedStatement(Self.overviewSQL(layouts))
        try await database.checkConnection()
        try await database.migrate(PostgresMigration.central)
        nodeID = try await database.prepareTables(layouts)
    }

    var logger: Logger { database.logger }

    // MARK: Settings

    /// A server setting (the hub's upstream…).
    package func setting(_ key: String) async throws -> String? {
        try await database.withConnection { connection in
            let rows = try await connection.run(
                "SELECT value FROM _settings WHERE key = \(key)", logger: self.logger)
            for try await value in rows.decode(String?.self) { return value }
            return nil
        }
    }

    /// Saves settings in one transaction (nil removes a key).
    package func saveSettings(_ values: [String: String?]) async throws {
        try await database.withTransaction { connection in
            // In key order: two saves of the same keys lock their rows in one order, and never deadlock.
            for (key, value) in values.sorted(by: { $0.key < $1.key }) {
                if let value {
                    try await connection.run(
                        """
                        INSERT INTO _settings (key, value) VALUES (\(key), \(value))
                        ON CONFLICT (key) DO UPDATE SET value = excluded.value
                        """, logger: self.logger)
                } else {
                    try await connection.run("DELETE FROM _settings WHERE key = \(key)", logger: self.logger)
                }
            }
        }
    }
}

import Logging
import PostgresNIO
import SyncCore

/// Central's store on PostgreSQL, for several stateless `sync-server` instances in front of one database.
///
/// It holds, so far, the tokens (`PostgresStore+Tokens`) and the settings, with the meaning of
/// ``SyncStore``'s methods of the same names on the SQLite replica (``ReplicaStore``); the records, the
/// merge and the change feed come next, and with them the conformance to ``SyncStore``.
///
/// Every method is one statement or one short transaction on a connection of the pool; values always
/// travel as bound parameters, never inside the SQL. Failures are `SyncError`s.
package final class PostgresStore: Sendable {
    /// The pool, shared with whoever opened the store.
    package let database: PostgresDatabase

    /// Opens the store on `database`: checks that the server can be used (``PostgresDatabase/checkConnection()``:
    /// a bad password or a missing database throws at once, saying so), then applies the migrations it
    /// lacks (``PostgresMigration/central``).
    package init(_ database: PostgresDatabase) async throws {
        self.database = database
        try await database.checkConnection()
        try await database.migrate(PostgresMigration.central)
    }

    var logger: Logger { database.logger }

    // MARK: Settings

    /// A server setting (the hub's upstream…).
    package func setting(_ key: String) async throws -> String? {
        try await database.withConnection { connection in
            let rows = try await connection.query(
                "SELECT value FROM _settings WHERE key = \(key)", logger: logger)
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
                    try await connection.query(
                        """
                        INSERT INTO _settings (key, value) VALUES (\(key), \(value))
                        ON CONFLICT (key) DO UPDATE SET value = excluded.value
                        """, logger: logger)
                } else {
                    try await connection.query("DELETE FROM _settings WHERE key = \(key)", logger: logger)
                }
            }
        }
    }
}

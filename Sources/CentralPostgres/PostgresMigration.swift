package import Logging
package import PostgresNIO

/// One step of the PostgreSQL schema: a version, a name, and what it does.
///
/// A migration, once released, is never edited: a change is a new migration with the next version. Each
/// runs in a transaction of its own with the row that records it (``PostgresDatabase/migrate(_:)``), so it
/// is applied entirely or not at all; it must not use a statement PostgreSQL refuses in a transaction
/// (`CREATE INDEX CONCURRENTLY`, `VACUUM`).
package struct PostgresMigration: Sendable {
    /// 1, 2, 3…: the order they run in; each is applied once per database.
    package var version: Int
    /// What it does, in a few words; kept in `_migrations` beside the version, and checked against it.
    package var name: String
    /// Runs the migration on a connection inside its transaction.
    package var apply: @Sendable (PostgresConnection, Logger) async throws -> Void

    package init(
        version: Int, name: String, apply: @escaping @Sendable (PostgresConnection, Logger) async throws -> Void
    ) {
        self.version = version
        self.name = name
        self.apply = apply
    }

    /// A migration that runs `statements` in order: SQL without values (DDL).
    package init(version: Int, name: String, statements: [PostgresQuery]) {
        self.init(version: version, name: name) { connection, logger in
            for statement in statements { try await connection.query(statement, logger: logger) }
        }
    }
}

extension PostgresMigration {
    /// Central's schema, in order: what ``PostgresStore`` opens a database with.
    package static let central: [PostgresMigration] = [settingsAndTokens]

    /// The unique constraint on `_tokens.node`: a node id belongs to one token.
    static let oneTokenPerNode = "_tokens_one_token_per_node"

    /// 1: `_settings` and `_tokens`, the columns and meaning of the SQLite replica's (`Replica+Settings`,
    /// `Replica+Tokens`). `_tokens.node` is unique: a node id belongs to one token, and two requests binding
    /// one node to two tokens at once cannot both succeed (PostgreSQL's writers are not serialized as
    /// SQLite's are). `hash` is SHA-256 of the bearer token; times are Unix milliseconds.
    static let settingsAndTokens = PostgresMigration(
        version: 1, name: "settings and tokens",
        statements: [
            """
            CREATE TABLE _settings (
                key TEXT PRIMARY KEY,
                value TEXT
            )
            """,
            """
            CREATE TABLE _tokens (
                id TEXT PRIMARY KEY,
                hash BYTEA NOT NULL UNIQUE,
                role TEXT NOT NULL,
                city TEXT,
                name TEXT NOT NULL,
                node TEXT,
                created_ms BIGINT NOT NULL,
                revoked_ms BIGINT,
                CONSTRAINT \(unescaped: oneTokenPerNode) UNIQUE (node)
            )
            """,
        ])
}

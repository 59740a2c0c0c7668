package import Logging
package import PostgresNIO
import SyncCore

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
            for statement in statements { try await connection.run(statement, logger: logger) }
        }
    }
}

extension PostgresMigration {
    /// Central's schema, in order: what ``PostgresStore`` opens a database with.
    package static let central: [PostgresMigration] = [
        settingsAndTokens, metaAndHistory, echo, clients, factMoves, lockInTheWrite,
    ]

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

    /// 2: `_meta`, one row: the server's node id (drawn here, once, for every instance), its hybrid logical
    /// clock and the feed's head sequence, which every write transaction locks first (decision record
    /// 0013); `_history`, the values that lost to a newer write (one per displaced write: the SQLite
    /// replica's unique key); `_departures`, the records that left a scope, for that scope's readers.
    static let metaAndHistory = PostgresMigration(version: 2, name: "meta, history and departures") {
        connection, logger in
        try await connection.run(
            """
            CREATE TABLE _meta (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                node_id BIGINT NOT NULL,
                previous_node_id BIGINT,
                hlc BIGINT NOT NULL,
                seq BIGINT NOT NULL
            )
            """, logger: logger)
        try await connection.run(
            "INSERT INTO _meta (id, node_id, hlc, seq) VALUES (1, \(NodeID.random().rawValue), 0, 0)", logger: logger)
        try await connection.run(
            """
            CREATE TABLE _history (
                id BIGSERIAL PRIMARY KEY,
                collection TEXT NOT NULL,
                record_id TEXT NOT NULL,
                field TEXT NOT NULL,
                value JSONB,
                value_hlc BIGINT NOT NULL,
                value_node BIGINT NOT NULL,
                winner_hlc BIGINT NOT NULL,
                winner_node BIGINT NOT NULL,
                UNIQUE (collection, record_id, field, value_hlc, value_node)
            )
            """, logger: logger)
        try await connection.run(
            """
            CREATE TABLE _departures (
                seq BIGINT PRIMARY KEY,
                collection TEXT NOT NULL,
                record_id TEXT NOT NULL,
                scope TEXT NOT NULL,
                code TEXT,
                field TEXT,
                detail TEXT
            )
            """, logger: logger)
    }

    /// 3: `_echo`, per client, the ranges of sequences its pushes took: the feed never sends a client its
    /// own changes back (as the SQLite replica's `_echo`).
    static let echo = PostgresMigration(
        version: 3, name: "echo",
        statements: [
            """
            CREATE TABLE _echo (
                peer TEXT NOT NULL,
                lo BIGINT NOT NULL,
                hi BIGINT NOT NULL,
                PRIMARY KEY (peer, lo)
            )
            """
        ])

    /// 4: what central keeps of its clients, with the SQLite replica's columns and meaning: `_leases` (each
    /// client node's push lease, its last moves, when two copies of it were seen), `_refused` (records a
    /// client pushed that were not applied, one row per version, for the admin), `_heartbeats` (each
    /// device's last status, and the hub it came through); and the scoped feed's index on `_departures`.
    static let clients = PostgresMigration(
        version: 4, name: "leases, refused records and heartbeats",
        statements: [
            """
            CREATE TABLE _leases (
                node TEXT PRIMARY KEY,
                lease BIGINT,
                moves TEXT,
                duplicate_ms BIGINT
            )
            """,
            """
            CREATE TABLE _refused (
                id BIGSERIAL PRIMARY KEY,
                collection TEXT NOT NULL,
                record_id TEXT NOT NULL,
                code TEXT NOT NULL,
                field TEXT,
                detail TEXT NOT NULL,
                record TEXT,
                hlc BIGINT NOT NULL,
                node BIGINT NOT NULL,
                source TEXT,
                at_ms BIGINT NOT NULL,
                status TEXT NOT NULL DEFAULT 'open',
                UNIQUE (collection, record_id, hlc, node)
            )
            """,
            "CREATE INDEX _refused_by_source ON _refused (source, status)",
            """
            CREATE TABLE _heartbeats (
                node TEXT PRIMARY KEY,
                role TEXT NOT NULL,
                city TEXT,
                name TEXT NOT NULL,
                app TEXT,
                backlog BIGINT NOT NULL DEFAULT 0,
                oldest_pending_ms BIGINT,
                last_error TEXT,
                clock_offset_ms BIGINT NOT NULL DEFAULT 0,
                last_seen_ms BIGINT NOT NULL,
                via TEXT
            )
            """,
            "CREATE INDEX _departures_by_scope ON _departures (scope, seq)",
        ])

    /// 5: `_fact_moves`, one row: how many times a fact row was changed or removed after it was written
    /// (a fact replaced by a lower stamp moves to a new sequence; psql or an older build may do anything).
    /// Counted by PostgreSQL itself, by a trigger on each fact table (``PostgresLayout/createSQL``) calling
    /// `_fact_moved()`, so that every writer counts. An instance uses the feed stretches it keeps only while
    /// the count is the one they were read at (decision record 0022).
    static let factMoves = PostgresMigration(
        version: 5, name: "fact moves",
        statements: [
            "CREATE TABLE _fact_moves (id INT PRIMARY KEY CHECK (id = 1), moves BIGINT NOT NULL)",
            "INSERT INTO _fact_moves (id, moves) VALUES (1, 0)",
            """
            CREATE FUNCTION _fact_moved() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE _fact_moves SET moves = moves + 1 WHERE id = 1;
                RETURN NULL;
            END
            $$
            """,
        ])

    /// SQLSTATE of `_lock_head`'s refusal: a row the merge read changed before it took the lock.
    package static let readsChanged = "FS409"

    /// 6: `_lock_head(seen, check, ids)`, called by a merge's write statement (decision record 0023): locks
    /// `_meta` (waiting for the writer holding it), and, when the head is no longer `seen` (others wrote
    /// since the merge's reads), runs `check` (a `SELECT` of one boolean, `$1` = `seen`, `$2` = `ids`: whether
    /// a row the merge read changed since) and fails with ``readsChanged`` when it did. Returns the head.
    /// A function, because its statements each see what was committed before they began (it is
    /// `VOLATILE`): the check sees the writer the lock waited for, which the write statement's own
    /// snapshot, taken before the wait, does not.
    static let lockInTheWrite = PostgresMigration(
        version: 6, name: "the feed's lock in the write",
        statements: [
            """
            CREATE FUNCTION _lock_head(seen BIGINT, check_sql TEXT, ids TEXT[]) RETURNS BIGINT
            LANGUAGE plpgsql VOLATILE AS $$
            DECLARE
                head BIGINT;
                changed BOOLEAN;
            BEGIN
                SELECT seq INTO head FROM _meta WHERE id = 1 FOR UPDATE;
                IF head IS NULL THEN
                    RAISE EXCEPTION 'Central''s _meta row is missing: run sync-server migrate.';
                END IF;
                IF head <> seen AND check_sql IS NOT NULL THEN
                    EXECUTE check_sql INTO changed USING seen, ids;
                    IF changed THEN
                        RAISE EXCEPTION 'A row this merge read changed before it took the feed''s lock.'
                            USING ERRCODE = '\(unescaped: readsChanged)';
                    END IF;
                END IF;
                RETURN head;
            END
            $$
            """
        ])
}

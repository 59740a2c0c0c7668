package import Logging
import NIOCore
package import PostgresNIO
import SyncCore
import Synchronization

/// Statements on a borrowed connection, every one of them through ``run(_:logger:)``.
///
/// PostgresNIO 1.33 writes a statement to its channel without a promise for the write: on a connection the
/// server has already ended (`idle_in_transaction_session_timeout`, `pg_terminate_backend`, a failover),
/// the write fails unseen and the statement's own promise is never completed, so its caller waits forever
/// and the pool's lease is never given back. `TerminatedConnectionTests` hung so. A statement on a closed
/// connection therefore fails here first (`unavailable`: the next request gets a new connection).
extension PostgresConnection {
    @discardableResult
    package func run(
        _ query: PostgresQuery, logger: Logger, file: String = #fileID, line: Int = #line
    ) async throws -> PostgresRowSequence {
        guard !isClosed else { throw Self.closedError }
        return try await self.query(query, logger: logger, file: file, line: line)
    }

    /// `body` in a transaction (`begin`: PostgreSQL's `BEGIN` statement, with its options), committed when
    /// it returns (unless `bodyCommits`: then `body` commits it itself, see ``runThenCommit(_:logger:)``),
    /// rolled back when it throws (unless the connection is already closed: PostgreSQL has rolled it back
    /// itself). Throws the body's error, else the commit's.
    package func transaction<Result>(
        _ begin: String = "BEGIN", bodyCommits: Bool = false, logger: Logger,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await run(PostgresQuery(unsafeSQL: begin), logger: logger)
        let result: Result
        do {
            result = try await body(self)
        } catch {
            // (After a commit the body sent itself, a ROLLBACK only draws a warning.)
            if !isClosed { _ = try? await run("ROLLBACK", logger: logger) }
            throw error
        }
        if !bodyCommits { try await run("COMMIT", logger: logger) }
        return result
    }

    /// Runs `query`, the last statement of a transaction, with `COMMIT` queued right behind it: the
    /// connection sends the commit as soon as PostgreSQL has answered the query, without waiting for the
    /// caller's task to be scheduled again (the round trips of a write transaction that holds the feed's
    /// lock are what every other writer waits for, decision record 0023). Returns the query's rows once
    /// both have ended. When the query fails, PostgreSQL ends the transaction with the queued `COMMIT` as a
    /// rollback, and the query's error is thrown; a commit that did not commit throws.
    package func runThenCommit(_ query: PostgresQuery, logger: Logger) async throws -> [PostgresRow] {
        guard !isClosed else { throw Self.closedError }
        // The channel takes both in this order: the second is sent when the first has ended.
        let written: EventLoopFuture<PostgresQueryResult> = self.query(query, logger: logger)
        let committed: EventLoopFuture<PostgresQueryResult> = self.query("COMMIT", logger: logger)
        let rows: [PostgresRow]
        do {
            rows = try await written.get().rows
        } catch {
            _ = try? await committed.get()
            throw error
        }
        let tag = try await committed.get().metadata.command
        guard tag == "COMMIT" else {
            throw SyncError(.storage, "PostgreSQL ended a write transaction with \(tag) instead of COMMIT.")
        }
        return rows
    }

    static let closedError = SyncError(
        .unavailable, "The connection to PostgreSQL was closed by the server (restarted, or the session ended).")
}

/// A statement whose SQL is made at run time (from the schema's tables), that PostgreSQL parses and plans
/// once per connection instead of on every call: a named prepared statement, through PostgresNIO's
/// `PostgresPreparedStatement`, whose name and SQL that API takes from the type (hence a task-local).
/// Its name holds a hash of its SQL and a generation: a preparation that failed stays failed for its
/// connection in PostgresNIO, so after any failure the store uses a new name (``retire()``).
///
/// Worth it where planning costs more than running: a pull's overview planned in 0.71 ms and ran in 0.22
/// (pg_stat_statements with `track_planning`, the nightly load), 2,950 times a night (decision record
/// 0023).
package final class ReusedStatement: Sendable {
    let sql: String
    private let hash: UInt64
    private let generation = Atomic<Int>(0)

    package init(_ sql: String) {
        self.sql = sql
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
        for byte in sql.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        self.hash = hash
    }

    var name: String { "fieldsync_\(String(hash, radix: 16))_\(generation.load(ordering: .relaxed))" }

    /// The next call prepares it again, under a new name.
    func retire() { generation.add(1, ordering: .relaxed) }

    @TaskLocal static var current: (name: String, sql: String)?
}

/// PostgresNIO's prepared statement, its name and SQL those of the ``ReusedStatement`` being run.
private struct RunTimeStatement: PostgresPreparedStatement {
    typealias Row = PostgresRow
    static var name: String { ReusedStatement.current?.name ?? "" }
    static var sql: String { ReusedStatement.current?.sql ?? "" }
    var binds: PostgresBindings

    func makeBindings() throws -> PostgresBindings { binds }
    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}

extension PostgresConnection {
    /// Runs `statement` with `binds` (their types, from the first call on a connection, are the
    /// statement's: a NULL lets PostgreSQL infer the type), and returns its rows.
    package func run(
        _ statement: ReusedStatement, binds: PostgresBindings, logger: Logger
    ) async throws -> [PostgresRow] {
        guard !isClosed else { throw Self.closedError }
        let name = statement.name
        do {
            return try await ReusedStatement.$current.withValue((name, statement.sql)) {
                var rows: [PostgresRow] = []
                for try await row in try await execute(RunTimeStatement(binds: binds), logger: logger) {
                    rows.append(row)
                }
                return rows
            }
        } catch {
            statement.retire()
            throw error
        }
    }
}

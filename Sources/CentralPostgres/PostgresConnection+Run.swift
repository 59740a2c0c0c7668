package import Logging
import NIOCore
package import PostgresNIO
import SyncCore

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

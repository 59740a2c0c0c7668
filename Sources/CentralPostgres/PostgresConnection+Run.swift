package import Logging
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
    /// it returns, rolled back when it throws (unless the connection is already closed: PostgreSQL has
    /// rolled it back itself). Throws the body's error, else the commit's.
    package func transaction<Result>(
        _ begin: String = "BEGIN", logger: Logger, _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await run(PostgresQuery(unsafeSQL: begin), logger: logger)
        let result: Result
        do {
            result = try await body(self)
        } catch {
            if !isClosed { _ = try? await run("ROLLBACK", logger: logger) }
            throw error
        }
        try await run("COMMIT", logger: logger)
        return result
    }

    static let closedError = SyncError(
        .unavailable, "The connection to PostgreSQL was closed by the server (restarted, or the session ended).")
}

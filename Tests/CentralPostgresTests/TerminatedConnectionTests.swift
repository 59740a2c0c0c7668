import CentralPostgres
import PostgresNIO
import SyncCore
import Testing

/// A connection the server ends while a request holds it (`idle_in_transaction_session_timeout`, an
/// operator's `pg_terminate_backend`, a failover): the request's next statement fails at once as
/// `unavailable` (503, resend), the pool goes on serving, and it shuts down. With PostgresNIO's own
/// `query` and `withTransaction`, that statement (and the transaction's `ROLLBACK`) waited forever: this
/// test hung, as a fresh-clone CI run once did and as `sync-server`'s requests would have.
@Suite("PostgreSQL: a connection the server ends", .postgresCluster)
struct TerminatedConnectionTests {
    @Test func aStatementOnAConnectionTheServerEndedFailsAndThePoolGoesOn() async throws {
        try await withTestDatabase { database in
            let outcome: Result<Int, any Error> = await {
                do {
                    return .success(
                        try await database.withTransaction { connection in
                            var pid: Int32 = 0
                            for try await value in try await connection.run(
                                "SELECT pg_backend_pid()", logger: quietLogger
                            ).decode(Int32.self) {
                                pid = value
                            }
                            let ended = pid
                            try await database.withConnection { other in
                                try await other.run("SELECT pg_terminate_backend(\(ended))", logger: quietLogger)
                            }
                            // The server's notice and the close reach the connection.
                            for _ in 0..<100 where !connection.isClosed { try await Task.sleep(for: .milliseconds(20)) }
                            try await connection.run("SELECT 1", logger: quietLogger)
                            return 1
                        })
                } catch {
                    return .failure(error)
                }
            }()
            guard case .failure(let error) = outcome else {
                Issue.record("a statement on an ended connection succeeded")
                return
            }
            #expect((error as? SyncError)?.code == .unavailable, "\(error)")
            // The pool replaces the connection and goes on serving.
            let answer = try await database.withConnection { connection in
                var one = 0
                for try await value in try await connection.run("SELECT 1", logger: quietLogger).decode(Int.self) {
                    one = value
                }
                return one
            }
            #expect(answer == 1)
        }
    }
}

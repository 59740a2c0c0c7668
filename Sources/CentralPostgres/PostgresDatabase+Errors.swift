import NIOCore
import PostgresNIO
package import SyncCore
import _ConnectionPoolModule

extension PostgresDatabase {
    /// PostgreSQL's failures as `SyncError`s, with a message that says what to do: `.diskFull` when the
    /// server is out of space, `.invalidValue` for a text PostgreSQL cannot hold, `.unavailable` for what
    /// passes on its own (a server restarting or too busy, a lost connection, a transaction aborted by
    /// another: a sync-server answers 503 with `Retry-After`), `.storage` for the rest.
    /// A `SyncError` (thrown by a caller's closure) passes unchanged.
    ///
    /// Messages name the server (never the password) and PostgreSQL's own message and SQLSTATE, never a
    /// query's values: they may hold a token's hash or a family's data.
    package func storageError(_ error: any Error) -> SyncError {
        if let error = error as? SyncError { return error }
        if let error = error as? PostgresTransactionError {
            // The body's failure first: a failed BEGIN, COMMIT or ROLLBACK only when the body did not fail.
            guard let cause = error.closureError ?? error.beginError ?? error.commitError ?? error.rollbackError
            else { return SyncError(.storage, "A PostgreSQL transaction on \(server) failed.") }
            return storageError(cause)
        }
        guard let error = error as? PSQLError else {
            // The pool's own failure (no connection could be made for a minute), a request given up, and the
            // network's errors pass; anything else (a value that does not decode, a certificate refused) is
            // this deployment's to fix, and retrying would only repeat it.
            let passes =
                error is ConnectionPoolError || error is CancellationError || error is IOError
                || error is ChannelError
            return SyncError(
                passes ? .unavailable : .storage,
                "Cannot use PostgreSQL on \(server) (\(error))"
                    + (passes
                        ? ": check that the server runs and that this machine reaches it; retry in a moment."
                        : "."),
                underlying: error)
        }
        switch error.code {
        case .server:
            return serverError(error)
        case .sslUnsupported:
            return SyncError(
                .storage,
                "The PostgreSQL server \(server) does not offer TLS: turn it on (ssl = on), or, for a server on "
                    + "this machine or a private link only, add ?sslmode=disable to the store's URL.",
                underlying: error)
        case .authMechanismRequiresPassword:
            return SyncError(
                .storage,
                "The PostgreSQL server \(server) asks for \(configuration.user)'s password: give it in the "
                    + "environment variable \(PostgresStoreConfiguration.passwordVariable) or in a private file "
                    + "(--store-password-file FILE).",
                underlying: error)
        case .poolClosed:
            return SyncError(.storage, "The PostgreSQL store is shut down.", underlying: error)
        case .queryCancelled:
            return SyncError(.unavailable, "A PostgreSQL query was cancelled: retry.", underlying: error)
        case .clientClosedConnection, .serverClosedConnection, .connectionError, .uncleanShutdown:
            return SyncError(
                .unavailable,
                "Lost or could not open the connection to PostgreSQL on \(server) (\(error.code)): check that the "
                    + "server runs and this machine reaches it, then retry.",
                underlying: error)
        default:
            // A protocol or authentication failure: retrying repeats it.
            return SyncError(
                .storage, "PostgreSQL on \(server) failed (\(error.code)): \(String(reflecting: error))",
                underlying: error)
        }
    }

    /// An error the server sent, by its SQLSTATE class.
    private func serverError(_ error: PSQLError) -> SyncError {
        let state = error.serverInfo?[.sqlState] ?? "?????"
        let said = "\(error.serverInfo?[.message] ?? "no message") (SQLSTATE \(state))"
        let (code, message): (SyncError.Code, String)
        switch state {
        case "53100":
            code = .diskFull
            message =
                "The PostgreSQL server \(server) is out of disk space: nothing of this operation was stored. "
                + "Free some space on it and retry."
        case "57014":
            code = .unavailable
            message =
                "A statement ran past the statement timeout (\(configuration.statementTimeout)) and was cancelled: "
                + "retry; if it recurs, look in pg_stat_activity for a long transaction holding a lock."
        case "40001", "40P01":
            code = .unavailable
            message = "PostgreSQL aborted a transaction that conflicted with another (\(said)): retry."
        case "22021", "22P05":
            code = .invalidValue
            message = "A text holds a character PostgreSQL cannot store, such as U+0000 (\(said))."
        case "3D000":
            code = .storage
            message =
                "The PostgreSQL database '\(configuration.database)' does not exist on \(server): create it "
                + "(createdb -O \(configuration.user) \(configuration.database)), then start again."
        case _ where state.hasPrefix("28"):
            code = .storage
            message =
                "The PostgreSQL server \(server) refused \(configuration.user)'s login (\(said)): check the "
                + "password (\(PostgresStoreConfiguration.passwordVariable) or --store-password-file) and the "
                + "server's pg_hba.conf."
        case "53000", "53200", "53300", "57P01", "57P02", "57P03", "08000", "08001", "08003", "08004", "08006",
            "25P03":
            // Too busy, shutting down or starting, a connection lost, an idle transaction ended: it passes.
            code = .unavailable
            message = "The PostgreSQL server \(server) cannot serve now (\(said)): retry in a moment."
        default:
            code = .storage
            message = "PostgreSQL failed on \(server): \(said)."
        }
        return SyncError(code, message, underlying: error)
    }

    /// The server as a person names it: `HOST:PORT/DATABASE`.
    var server: String {
        let host = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
        return "\(host):\(configuration.port)/\(configuration.database)"
    }
}

package import Logging
package import PostgresNIO
import SyncCore

/// A pool of connections to central's PostgreSQL database: the `PostgresClient`, the task that runs it,
/// and the ways to borrow a connection.
///
/// `PostgresClient` does its background work (opening, pinging and closing connections) only inside its
/// `run()`, which must go on for as long as the client is used. The database owns that task: `init` starts
/// it, ``shutdown()`` cancels it and waits until every connection is closed. Call ``shutdown()`` once done
/// (``withDatabase(_:logger:_:)`` does, even when its body throws); a database released without it cancels
/// the task as a safety net, without waiting. After ``shutdown()``, every call throws `.storage`.
///
/// Failures are `SyncError`s (see ``storageError(_:)``): a caller never sees a PostgresNIO type in an error.
package final class PostgresDatabase: Sendable {
    package let configuration: PostgresStoreConfiguration
    package let logger: Logger
    private let client: PostgresClient
    /// The client's `run()`: started in `init`, cancelled by ``shutdown()`` (or `deinit`).
    private let running: Task<Void, Never>

    /// Starts a pool for `configuration` (validated first). Opens no connection: the first call does, and a
    /// server that cannot be reached shows there.
    package init(_ configuration: PostgresStoreConfiguration, logger: Logger) throws(PostgresConfigurationError) {
        try configuration.validate()
        self.configuration = configuration
        self.logger = logger
        let client = PostgresClient(configuration: configuration.clientConfiguration, backgroundLogger: logger)
        self.client = client
        running = Task { await client.run() }
    }

    deinit {
        running.cancel()
    }

    /// Closes the pool: connections in use finish their work, then every connection is closed. Returns once
    /// they are; calling it again returns at once.
    package func shutdown() async {
        running.cancel()
        await running.value
    }

    /// Runs `body` with a database for `configuration`, and shuts it down after, whether `body` returns or
    /// throws.
    package static func withDatabase<Result: Sendable>(
        _ configuration: PostgresStoreConfiguration, logger: Logger,
        _ body: (PostgresDatabase) async throws -> Result
    ) async throws -> Result {
        let database = try PostgresDatabase(configuration, logger: logger)
        do {
            let result = try await body(database)
            await database.shutdown()
            return result
        } catch {
            await database.shutdown()
            throw error
        }
    }

    /// Opens one connection outside the pool, runs `SELECT 1` and closes it: a server that cannot be
    /// reached, refuses the login or lacks the database throws at once, with PostgreSQL's reason. (The pool
    /// retries a failing server quietly, and fails its waiting calls only after a minute, without the
    /// reason.) ``PostgresStore`` calls it when it opens.
    package func checkConnection() async throws {
        do {
            let connection = try await PostgresConnection.connect(
                configuration: configuration.connectionConfiguration(), id: 0, logger: logger)
            do {
                try await connection.query("SELECT 1", logger: logger)
            } catch {
                try? await connection.close()
                throw error
            }
            try await connection.close()
        } catch {
            throw storageError(error)
        }
    }

    /// Runs `body` on a connection of the pool (waiting for one when all are in use), outside a transaction:
    /// each statement commits on its own. The connection goes back to the pool when `body` returns; `body`
    /// must not keep it.
    ///
    /// Throws what `body` throws, PostgreSQL's failures as `SyncError`s.
    package func withConnection<Result>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        do {
            return try await client.withConnection(isolation: isolation, body)
        } catch {
            throw storageError(error)
        }
    }

    /// Runs `body` in a transaction (`READ COMMITTED`, PostgreSQL's default) on a connection of the pool:
    /// committed when `body` returns, rolled back when it throws. Keep it short: it holds a connection, and
    /// its locks, until it ends.
    ///
    /// Throws what `body` throws (unwrapped from PostgresNIO's transaction error), PostgreSQL's failures, the
    /// commit's included, as `SyncError`s.
    package func withTransaction<Result>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        do {
            return try await client.withTransaction(logger: logger, isolation: isolation, body)
        } catch {
            throw storageError(error)
        }
    }
}

extension PostgresStoreConfiguration {
    /// PostgresNIO's configuration of the pool.
    var clientConfiguration: PostgresClient.Configuration {
        var client = PostgresClient.Configuration(
            host: host, port: port, username: user, password: password, database: database,
            tls: tls == .require ? .require(.makeClientConfiguration()) : .disable)
        client.options.maximumConnections = poolSize
        client.options.additionalStartupParameters = startupParameters
        return client
    }

    /// PostgresNIO's configuration of one connection, as the pool makes them.
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        var connection = PostgresConnection.Configuration(
            host: host, port: port, username: user, password: password, database: database,
            tls: tls == .require ? .require(try NIOSSLContext(configuration: .makeClientConfiguration())) : .disable)
        connection.options.additionalStartupParameters = startupParameters
        return connection
    }

    /// Sent with every connection's startup, so they apply to all it runs (migrations set their own
    /// timeout): the statement timeout; the same bound on a transaction left idle (an instance that hangs
    /// with a write open would hold every writer's lock, decision record 0013); and a name that
    /// `pg_stat_activity` shows.
    private var startupParameters: [(String, String)] {
        let (seconds, attoseconds) = statementTimeout.components
        let milliseconds = String(max(seconds * 1000 + attoseconds / 1_000_000_000_000_000, 1))
        return [
            ("statement_timeout", milliseconds), ("idle_in_transaction_session_timeout", milliseconds),
            ("application_name", "fieldsync"),
        ]
    }
}

package import Logging
import Metrics
package import PostgresNIO
import SyncCore
import Synchronization

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
    /// Connections borrowed from the pool now (for `/metrics`).
    private let borrowedCount = BorrowCount()

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
                try await connection.run("SELECT 1", logger: logger)
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
    /// Throws what `body` throws, PostgreSQL's failures as `SyncError`s; `.unavailable` when no connection
    /// came within ``PostgresStoreConfiguration/connectionWait`` (the server is down or restarting).
    package func withConnection<Result: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await borrowing(kind: "statement") { connection in try await body(connection) }
    }

    /// Runs `body` in a transaction (`READ COMMITTED`, PostgreSQL's default) on a connection of the pool:
    /// committed when `body` returns, rolled back when it throws. Keep it short: it holds a connection, and
    /// its locks, until it ends.
    ///
    /// With `bodyCommits`, `body` commits the transaction itself (``PostgresConnection/runThenCommit(_:logger:)``).
    ///
    /// Throws what `body` throws, PostgreSQL's failures, the
    /// commit's included, as `SyncError`s; `.unavailable` as ``withConnection(_:)`` says.
    package func withTransaction<Result: Sendable>(
        bodyCommits: Bool = false, _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let logger = logger
        return try await borrowing(kind: "transaction") { connection in
            try await connection.transaction(bodyCommits: bodyCommits, logger: logger) { try await body($0) }
        }
    }

    /// Runs `body` in a read-only transaction that sees one snapshot (`REPEATABLE READ, READ ONLY`, begun
    /// in one statement: a pull page's reads). Errors as ``withTransaction(_:)`` says.
    package func withSnapshot<Result: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let logger = logger
        return try await borrowing(kind: "snapshot") { connection in
            try await connection.transaction("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger) {
                try await body($0)
            }
        }
    }

    /// Borrows a connection for `body`, waiting at most ``PostgresStoreConfiguration/connectionWait`` for it
    /// (the pool itself would wait a minute for a server that is down), and measures the wait and the use
    /// for `/metrics`: `fieldsync_store_wait_seconds` (the pool is too small, or the server slow to
    /// accept), `fieldsync_store_query_seconds` by kind (how long `body` held it), and
    /// `fieldsync_store_connections_in_use` against `fieldsync_store_pool_size`. Once borrowed, `body` is
    /// never cut short here (the statement timeout bounds it).
    private func borrowing<Result: Sendable>(
        kind: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let asked = ContinuousClock.now
        let lease = LeaseRace()
        let (client, wait, inUse) = (client, configuration.connectionWait, borrowedCount)
        let poolSize = configuration.poolSize
        do {
            return try await withThrowingTaskGroup(of: Result?.self) { group in
                group.addTask {
                    try await client.withConnection { connection in
                        // The wait may have run out as the connection came: then `body` never runs.
                        guard lease.borrow() else { throw ConnectionWaitExpired() }
                        let start = ContinuousClock.now
                        Metrics.Timer(label: "fieldsync_store_wait_seconds").recordNanoseconds(
                            Self.nanoseconds(asked, start))
                        Gauge(label: "fieldsync_store_pool_size").record(poolSize)
                        let gauge = Gauge(label: "fieldsync_store_connections_in_use")
                        gauge.record(inUse.add(1))
                        defer {
                            gauge.record(inUse.add(-1))
                            Metrics.Timer(label: "fieldsync_store_query_seconds", dimensions: [("kind", kind)])
                                .recordNanoseconds(Self.nanoseconds(start, .now))
                        }
                        return try await body(connection)
                    }
                }
                group.addTask {
                    try? await Task.sleep(for: wait)
                    guard !lease.expire() else { throw ConnectionWaitExpired() }
                    return nil
                }
                while let result = try await group.next() {
                    if let result {
                        group.cancelAll()
                        return result
                    }
                }
                throw CancellationError()  // (each task returns once; the body's result is among them)
            }
        } catch is ConnectionWaitExpired {
            throw SyncError(
                .unavailable,
                "No connection to PostgreSQL on \(server) within \(wait): the server is down, restarting or "
                    + "overloaded, or the pool (\(poolSize) connections) is exhausted; retry in a moment.")
        } catch {
            throw storageError(error)
        }
    }

    private static func nanoseconds(_ from: ContinuousClock.Instant, _ to: ContinuousClock.Instant) -> Int64 {
        let (seconds, attoseconds) = (to - from).components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
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
    /// timeout): the statement timeout; the same bound, at least 30 s, on a transaction left idle (an
    /// instance that hangs with a write open would hold every writer's lock, decision record 0013); and a
    /// name that `pg_stat_activity` shows.
    private var startupParameters: [(String, String)] {
        let (seconds, attoseconds) = statementTimeout.components
        let milliseconds = max(seconds * 1000 + attoseconds / 1_000_000_000_000_000, 1)
        // An idle transaction gets at least 30 s: a large push decides in memory between two statements,
        // which a short statement timeout must not cut.
        return [
            ("statement_timeout", String(milliseconds)),
            ("idle_in_transaction_session_timeout", String(max(milliseconds, 30_000))),
            ("application_name", "fieldsync"),
        ]
    }
}

/// The wait for a connection of the pool ran out.
private struct ConnectionWaitExpired: Error {}

/// One borrowing's race between the connection and the end of the wait: whichever comes first wins, once.
private final class LeaseRace: Sendable {
    private enum State { case waiting, borrowed, expired }
    private let state = Mutex(State.waiting)

    /// The connection came: whether it is used (the wait had not run out).
    func borrow() -> Bool { settle(as: .borrowed) }

    /// The wait ran out: whether it did before the connection came.
    func expire() -> Bool { settle(as: .expired) }

    private func settle(as outcome: State) -> Bool {
        state.withLock {
            guard $0 == .waiting else { return false }
            $0 = outcome
            return true
        }
    }
}

/// A count shared by the tasks that borrow connections.
private final class BorrowCount: Sendable {
    private let value = Mutex(0)

    /// Adds `delta` and returns the new count.
    func add(_ delta: Int) -> Int {
        value.withLock {
            $0 += delta
            return $0
        }
    }
}

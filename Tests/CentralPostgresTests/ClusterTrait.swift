import CentralPostgres
import FieldSyncTesting
import Logging
import Testing

import struct PostgresNIO.PostgresQuery

/// `@Suite(.postgresCluster)`: one PostgreSQL cluster for the whole suite (starting one takes seconds),
/// started before its first test and stopped after its last; each test makes its own database on it
/// (``makeDatabase()``), so tests stay independent and may run in parallel.
///
/// When PostgreSQL is not installed, the suite fails with the `apt-get` line to run: it never skips.
struct PostgresClusterTrait: SuiteTrait, TestScoping {
    @TaskLocal static var current: PostgresCluster?

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let cluster = try await PostgresCluster.start()
        do {
            try await Self.$current.withValue(cluster, operation: function)
        } catch {
            try? await cluster.stop()
            throw error
        }
        try await cluster.stop()
    }
}

extension Trait where Self == PostgresClusterTrait {
    /// One PostgreSQL cluster for the suite (see ``PostgresClusterTrait``).
    static var postgresCluster: Self { Self() }
}

/// The suite's cluster; a test of a suite without `.postgresCluster` fails here.
func currentCluster() throws -> PostgresCluster {
    try #require(PostgresClusterTrait.current, "The suite needs the .postgresCluster trait.")
}

/// A new database on the suite's cluster, and its configuration (plain TCP on loopback, no password).
func makeDatabaseConfiguration(poolSize: Int = 4) async throws -> PostgresStoreConfiguration {
    let cluster = try currentCluster()
    let name = try await cluster.createDatabase()
    var configuration = try PostgresStoreConfiguration(url: cluster.url(database: name))
    configuration.poolSize = poolSize
    // The whole test run shares two cores and this process's cooperative threads with suites that block
    // them for seconds (the synchronous simulations): a connection may take longer to come than a server's
    // 5 s bound allows, which is not what these tests are about (the bound's own tests run real servers).
    configuration.connectionWait = .seconds(120)
    return configuration
}

/// Runs `body` with a pool on a new database of the suite's cluster, and shuts the pool down after.
func withTestDatabase<Result: Sendable>(
    poolSize: Int = 4, _ body: (PostgresDatabase) async throws -> Result
) async throws -> Result {
    let configuration = try await makeDatabaseConfiguration(poolSize: poolSize)
    return try await PostgresDatabase.withDatabase(configuration, logger: quietLogger, body)
}

/// Runs SQL statements without values, one after the other, on one connection of `database` (what an
/// operator, a restore or a crash does behind the store's back).
func execute(_ statements: [String], on database: PostgresDatabase) async throws {
    try await database.withConnection { connection in
        for statement in statements {
            try await connection.query(PostgresQuery(unsafeSQL: statement), logger: quietLogger)
        }
    }
}

let quietLogger = Logger(label: "central-postgres-tests") { _ in SwiftLogNoOpLogHandler() }

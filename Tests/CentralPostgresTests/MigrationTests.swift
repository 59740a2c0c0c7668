import CentralPostgres
import FieldDomain
import FieldSyncTesting
import PostgresNIO
import SyncCore
import Testing

@Suite("PostgreSQL migrations", .postgresCluster)
struct MigrationTests {
    @Test("migrating twice applies nothing the second time")
    func idempotent() async throws {
        try await withTestDatabase { database in
            let first = try await database.migrate(PostgresMigration.central)
            let second = try await database.migrate(PostgresMigration.central)
            #expect(first == [1, 2, 3, 4, 5, 6])
            #expect(second == [])
            #expect(
                try await recorded(database) == [
                    1: "settings and tokens", 2: "meta, history and departures", 3: "echo",
                    4: "leases, refused records and heartbeats", 5: "fact moves", 6: "the feed's lock in the write",
                ])
            #expect(
                try await tables(database) == [
                    "_departures", "_echo", "_fact_moves", "_heartbeats", "_history", "_leases", "_meta", "_migrations",
                    "_refused", "_settings", "_tokens",
                ])
        }
    }

    /// A transaction left open by an instance that hangs is ended by the server (it would hold every
    /// writer's lock, decision record 0013), after the statement timeout.
    @Test("every connection bounds statements and idle transactions by the statement timeout")
    func timeouts() async throws {
        try await withTestDatabase { database in
            let settings = try await database.withConnection { connection in
                var found: [String] = []
                for name in ["statement_timeout", "idle_in_transaction_session_timeout"] {
                    let rows = try await connection.query("SELECT current_setting(\(name))", logger: quietLogger)
                    for try await value in rows.decode(String.self) { found.append(value) }
                }
                return found
            }
            #expect(settings == ["30s", "30s"])
        }
    }

    @Test("two pools migrating one database at once apply each migration once")
    func concurrent() async throws {
        let configuration = try await makeDatabaseConfiguration()
        // Each migration sleeps and creates a table (a second CREATE would fail), so that the two surely
        // overlap and a migration applied twice shows.
        let migrations = (1...3).map { version in
            PostgresMigration(version: version, name: "step \(version)") { connection, logger in
                try await connection.query("SELECT pg_sleep(0.1)", logger: logger)
                try await connection.query("CREATE TABLE \(unescaped: "step_\(version)") (id INTEGER)", logger: logger)
            }
        }
        let applied = try await PostgresDatabase.withDatabase(configuration, logger: quietLogger) { first in
            try await PostgresDatabase.withDatabase(configuration, logger: quietLogger) { second in
                async let one = first.migrate(migrations)
                async let two = second.migrate(migrations)
                return try await [one, two]
            }
        }
        #expect(applied.joined().sorted() == [1, 2, 3])
        let versions = try await PostgresDatabase.withDatabase(configuration, logger: quietLogger) { database in
            try await recorded(database).keys.sorted()
        }
        #expect(versions == [1, 2, 3])
    }

    @Test("a migration that fails leaves nothing of itself, and the ones before it stay applied")
    func failedMigration() async throws {
        try await withTestDatabase { database in
            let migrations = [
                PostgresMigration(version: 1, name: "good", statements: ["CREATE TABLE good (id INTEGER)"]),
                PostgresMigration(
                    version: 2, name: "bad", statements: ["CREATE TABLE half (id INTEGER)", "SELECT * FROM missing"]),
            ]
            let error = await #expect(throws: SyncError.self) { try await database.migrate(migrations) }
            #expect(error?.code == .storage)
            #expect(error?.message.contains("42P01") == true)
            let (versions, names) = (try await recorded(database), try await tables(database))
            #expect(versions == [1: "good"])
            #expect(names == ["_migrations", "good"])
        }
    }

    @Test("a database migrated further, or by another build, is refused")
    func newerOrOther() async throws {
        try await withTestDatabase { database in
            let first = PostgresMigration(version: 1, name: "one", statements: [])
            let second = PostgresMigration(version: 2, name: "two", statements: [])
            try await database.migrate([first, second])
            let newer = await #expect(throws: SyncError.self) { try await database.migrate([first]) }
            #expect(newer?.message.contains("newer FieldSync") == true)
            let renamed = PostgresMigration(version: 1, name: "uno", statements: [])
            let other = await #expect(throws: SyncError.self) { try await database.migrate([renamed, second]) }
            #expect(other?.message.contains("another build") == true)
        }
    }

    @Test("migrations must be numbered 1, 2, 3…")
    func numbering() async throws {
        try await withTestDatabase { database in
            let skipping = [
                PostgresMigration(version: 1, name: "one", statements: []),
                PostgresMigration(version: 3, name: "three", statements: []),
            ]
            let error = await #expect(throws: SyncError.self) { try await database.migrate(skipping) }
            #expect(error?.code == .schema)
            let names = try await tables(database)
            #expect(names == [])
        }
    }

    @Test("a missing database, or a port where no server listens, fails the store's opening at once, saying so")
    func unusableServer() async throws {
        let cluster = try currentCluster()
        let missing = try PostgresStoreConfiguration(url: cluster.url(database: "no_such_database"))
        let error = await #expect(throws: SyncError.self) {
            try await PostgresDatabase.withDatabase(missing, logger: quietLogger) {
                try await PostgresStore($0, schema: .fieldSync)
            }
        }
        #expect(error?.code == .storage)
        #expect(error?.message.contains("'no_such_database' does not exist") == true)

        let port = try freePort()
        let closed = try PostgresStoreConfiguration(url: "postgres://postgres@127.0.0.1:\(port)/x?sslmode=disable")
        let refused = await #expect(throws: SyncError.self) {
            try await PostgresDatabase.withDatabase(closed, logger: quietLogger) {
                try await PostgresStore($0, schema: .fieldSync)
            }
        }
        #expect(refused?.code == .unavailable)
        #expect(refused?.message.contains("127.0.0.1:\(port)/x") == true)
    }

    /// What passes on its own (a connection ended under the server's feet) is `unavailable` (503: the client
    /// retries); what a retry would only repeat (a value that does not decode) is `storage`, so that clients
    /// stop and the operator reads the cause. (Review finding: every error that was not PostgreSQL's own
    /// was `unavailable`, and clients retried it forever.)
    @Test("failures that pass are unavailable, the others are not")
    func transientOrNot() async throws {
        try await withTestDatabase { database in
            let decoding = await #expect(throws: SyncError.self) {
                try await database.withConnection { connection in
                    let rows = try await connection.query("SELECT 'x'::text", logger: quietLogger)
                    for try await _ in rows.decode(Int64.self) {}
                }
            }
            #expect(decoding?.code == .storage)
            #expect(database.storageError(CancellationError()).code == .unavailable)
        }
    }

    /// The `_migrations` table: version → name.
    private func recorded(_ database: CentralPostgres.PostgresDatabase) async throws -> [Int: String] {
        try await database.withConnection { connection in
            var recorded: [Int: String] = [:]
            let rows = try await connection.query("SELECT version, name FROM _migrations", logger: quietLogger)
            for try await (version, name) in rows.decode((Int, String).self) { recorded[version] = name }
            return recorded
        }
    }

    /// The tables of the public schema, sorted.
    private func tables(_ database: CentralPostgres.PostgresDatabase) async throws -> [String] {
        try await database.withConnection { connection in
            let rows = try await connection.query(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename", logger: quietLogger)
            var names: [String] = []
            for try await name in rows.decode(String.self) { names.append(name) }
            return names
        }
    }
}

import ArgumentParser
import CentralPostgres
import FieldDomain
import Foundation
import Logging
import SyncCore

@main
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync-server",
        abstract: "Serves a FieldSync replica over HTTP (central store or city hub).",
        discussion: """
            Examples:
              sync-server token issue --db central.db --role hub --city Tunis --name hub-tunis --out hub.token
              sync-server serve --db central.db --port 8080
              sync-server serve --db hub.db --port 8081 --upstream http://central:8080 \\
                  --upstream-token-file hub.token --sync-at 02:00
              sync-server sync-upstream --db hub.db
              sync-server migrate --store postgres://fieldsync@db.example:5432/central
            """,
        version: FieldSyncVersion.current,
        subcommands: [ServeCommand.self, TokenCommand.self, SyncUpstreamCommand.self, MigrateCommand.self]
    )
}

/// Options every command that opens the server's store shares: a replica file (`--db`), or central's
/// PostgreSQL database (`--store postgres://…`, for the commands that take it).
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: "The replica file (created with mode 0600 if missing).")
    var db: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Central's PostgreSQL database: postgres://USER@HOST:PORT/DATABASE[?sslmode=disable|require].",
            discussion: "The password is never on the command line: FIELDSYNC_PG_PASSWORD (or PGPASSWORD), or "
                + "--store-password-file."))
    var store: String?

    @Option(name: .long, help: "A file (mode 0600) whose first line is the PostgreSQL password.")
    var storePasswordFile: String?

    @Option(
        name: .long,
        help: "Connections to PostgreSQL this instance opens at most (default 16; the server allows 100 in all).")
    var storePoolSize: Int?

    @Option(
        name: .long,
        help:
            "Seconds a PostgreSQL statement, or a transaction left idle, may last before it is cancelled (default 30).")
    var storeStatementTimeout: Double?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func validate() throws {
        switch (db, store) {
        case (nil, nil): throw ValidationError("Name the store: --db FILE (a replica) or --store postgres://….")
        case (.some, .some): throw ValidationError("--db and --store name two stores: give one.")
        case (.some(let path), nil) where path.isEmpty: throw ValidationError("--db needs a file path.")
        default: break
        }
        if storePasswordFile != nil || storePoolSize != nil || storeStatementTimeout != nil, store == nil {
            throw ValidationError(
                "--store-password-file, --store-pool-size and --store-statement-timeout go with --store.")
        }
        if let storeStatementTimeout, !(storeStatementTimeout >= 0.001 && storeStatementTimeout <= 86_400) {
            throw ValidationError("--store-statement-timeout must be 0.001…86400 seconds.")
        }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical.")
        }
    }

    /// The replica file, for a command that needs one (a hub's upstream sync).
    func replicaPath(for command: String) throws -> String {
        guard let db else {
            throw ValidationError(
                "`sync-server \(command)` runs on a hub's replica file (--db), not on central's --store.")
        }
        return db
    }

    /// The store named: the replica file, or central's PostgreSQL database with its password and settings.
    func location() throws -> ServerConfiguration.Store {
        guard let store else { return .replica(path: try replicaPath(for: "serve")) }
        return .postgres(try postgresConfiguration(store))
    }

    /// Central's PostgreSQL database at `url`, its password read (environment or file), its settings checked.
    func postgresConfiguration(_ url: String) throws -> PostgresStoreConfiguration {
        do {
            let password = try PostgresStoreConfiguration.password(file: storePasswordFile)
            var configuration = try PostgresStoreConfiguration(url: url, password: password)
            if let storePoolSize { configuration.poolSize = storePoolSize }
            if let storeStatementTimeout { configuration.statementTimeout = .seconds(storeStatementTimeout) }
            try configuration.validate()
            return configuration
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// The token store of the replica file (created if missing) or of central's PostgreSQL database (its
    /// migrations applied), given to `body` and closed after.
    func withTokenStore<T: Sendable>(_ body: (any TokenStore) async throws -> T) async throws -> T {
        guard let store else {
            return try await body(ReplicaStore(Replica(path: try replicaPath(for: "token"), schema: .fieldSync)))
        }
        return try await withPostgres(store) { try await body($0) }
    }

    /// Central's PostgreSQL store at `url` (migrated, its tables made), given to `body` and closed after.
    func withPostgres<T: Sendable>(_ url: String, _ body: (PostgresStore) async throws -> T) async throws -> T {
        let configuration = try postgresConfiguration(url)
        return try await PostgresDatabase.withDatabase(configuration, logger: makeLogger("fieldsync.store")) {
            database in
            try await body(try await PostgresStore(database, schema: .fieldSync))
        }
    }

    /// Logs go to stderr, one line per event, never with tokens or family data.
    func makeLogger(_ label: String) -> Logger {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        var logger = Logger(label: label) { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = level
        return logger
    }
}

/// Prints a message on stderr and exits 1: an operation failed.
func fail(_ message: String) -> ExitCode {
    FileHandle.standardError.write(Data(("error: " + message + "\n").utf8))
    return ExitCode(1)
}

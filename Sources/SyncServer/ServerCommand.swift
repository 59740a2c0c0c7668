import ArgumentParser
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
            """,
        version: FieldSyncVersion.current,
        subcommands: [ServeCommand.self, TokenCommand.self, SyncUpstreamCommand.self]
    )
}

/// Options every command that opens the replica shares.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: "The replica file (created with mode 0600 if missing).")
    var db: String

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func validate() throws {
        guard !db.isEmpty else { throw ValidationError("--db needs a file path.") }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical.")
        }
    }

    /// The store of the replica file (created if missing).
    func openStore() throws -> any SyncStore {
        try ReplicaStore(Replica(path: db, schema: .fieldSync))
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

import ArgumentParser
import SyncCore

@main
struct ServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync-server",
        abstract: "Serves a FieldSync replica over HTTP (central store or city hub).",
        version: FieldSyncVersion.current
    )
}

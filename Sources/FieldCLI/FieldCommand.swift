import ArgumentParser
import SyncCore

@main
struct FieldCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "field",
        abstract: "FieldSync for volunteers, hub operators and the admin.",
        version: FieldSyncVersion.current
    )
}

import ArgumentParser
import Foundation
import SyncClient
import SyncCore

@main
struct FieldCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "field",
        abstract: "FieldSync for volunteers, hub operators and the admin.",
        discussion: """
            Works offline: every command but `sync` (and the checks of `init`) uses only this device's replica.
            Exit codes: 0 done, 1 the operation failed (the message says why and what to do), 2 bad usage.
            Examples:
              field init --server https://hub.tunis.example.org --token-file amina.token
              field family add --reference TUN-0042 --head "Fatma Ben Ali" --phone "+216 98 123 456" --size 5
              field deliver --family TUN-0042 --item food_pack --campaign 2026-winter
              field sync
            """,
        version: FieldSyncVersion.current,
        subcommands: [
            InitCommand.self, FamilyCommand.self, CatalogueCommand.self, DeliverCommand.self, VoidCommand.self,
            HistoryCommand.self,
            SyncCommand.self, StatusCommand.self, ReportCommand.self, AdminCommand.self, ExportCommand.self,
        ]
    )

    /// Exit 2 on bad usage (ArgumentParser's default is 64), 1 on a failed operation.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as CLIError {
            Printer.note("error: \(error.message)")  // it may quote a record, or a server's answer
            Foundation.exit(1)
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}

/// A failed operation: exit 1 with this message.
struct CLIError: Error {
    var message: String

    init(_ message: String) {
        self.message = message
    }

    init(_ error: any Error) {
        switch error {
        case let error as CLIError: self = error
        case let error as SyncError: message = error.message
        case let error as SyncClientError: message = error.message
        case let problem as Problem: message = problem.detail
        default: message = "\(error)"
        }
    }
}

/// Runs `body`, turning any failure into a `CLIError` (exit 1).
func operation<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch {
        throw CLIError(error)
    }
}

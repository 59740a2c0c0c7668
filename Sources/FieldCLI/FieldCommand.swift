import ArgumentParser
import Foundation
import SyncClient
import SyncCore

@main
struct FieldCommand: ParsableCommand {
    // Computed at first use, once ``main()`` has chosen the language.
    static let configuration = CommandConfiguration(
        commandName: "field",
        abstract: HelpText.field(),
        discussion: HelpText.fieldDiscussion() + "\n"
            + HelpText.discussion(
                nil,
                examples: [
                    "field init --enrol 0007-Amina-El-Idrissi.enrol --lang ar",
                    "field family add --reference FES-0042 --head \"فاطمة بنعلي\" --phone \"0612 345 678\" --size 5",
                    "field deliver --family FES-0042 --item food_pack --campaign 2026-winter",
                    "field sync",
                ]),
        version: FieldSyncVersion.current,
        subcommands: [
            InitCommand.self, FamilyCommand.self, CatalogueCommand.self, DeliverCommand.self, VoidCommand.self,
            HistoryCommand.self,
            SyncCommand.self, StatusCommand.self, ReportCommand.self, AdminCommand.self, ExportCommand.self,
            VouchersCommand.self, StockCommand.self, HubCommand.self, PhrasesCommand.self,
        ]
    )

    /// Exit 2 on bad usage (ArgumentParser's default is 64), 1 on a failed operation. With `--json`, a
    /// failure is also printed on stdout as a JSON object: `error` (the message), and the records that
    /// explain it (``CLIError/records``).
    static func main() {
        var arguments = Array(CommandLine.arguments.dropFirst())
        Language.current = Language.select(arguments: arguments, environment: ProcessInfo.processInfo.environment)
        // `field --lang ar --help`: before the subcommand, `--lang` is this run's alone (after it, the
        // subcommand's own option, which `init` saves).
        if arguments.first == "--lang", arguments.count > 1 {
            arguments.removeFirst(2)
        } else if arguments.first?.hasPrefix("--lang=") == true {
            arguments.removeFirst()
        }
        var command: any ParsableCommand
        do {
            command = try parseAsRoot(arguments)
        } catch {
            // Bad usage comes before there is a command to ask: `--json` among the arguments asks for JSON.
            fail(error, json: CommandLine.arguments.dropFirst().contains("--json"))
        }
        do {
            try command.run()
        } catch {
            fail(error, json: wantsJSON(command))
        }
    }

    static func fail(_ error: any Error, json: Bool) -> Never {
        let code = exitCode(for: error)
        if json, !code.isSuccess {  // not `--help`
            Printer.json(jsonObject(error, usage: code == .validationFailure))
        }
        if let error = error as? CLIError {
            Printer.note(DeviceText.error(error.message))  // it may quote a record, or a server's answer
            Foundation.exit(1)
        }
        if code == .validationFailure {
            FileHandle.standardError.write(Data((UsageWords.translate(fullMessage(for: error)) + "\n").utf8))
            Foundation.exit(2)
        }
        // Help, the version, or another failure ArgumentParser words: its words in the volunteer's language.
        let text = UsageWords.translate(fullMessage(for: error))
        if !text.isEmpty {
            let output = code.isSuccess ? FileHandle.standardOutput : FileHandle.standardError
            output.write(Data((text + "\n").utf8))
        }
        Foundation.exit(code.rawValue)
    }

    /// Whether `command` was given `--json` (it has ``OutputOptions``).
    static func wantsJSON(_ command: any ParsableCommand) -> Bool {
        Mirror(reflecting: command).children.contains { child in
            (child.value as? OptionGroup<OutputOptions>)?.wrappedValue.json == true
        }
    }

    static func jsonObject(_ error: any Error, usage: Bool) -> [String: Any] {
        let failure = usage ? CLIError(message(for: error)) : CLIError(error)
        var object: [String: Any] = ["error": failure.message]
        for (key, records) in failure.records {
            object[key] = records.map { record in
                record.filter { $0.key != "_deleted" }.mapValues { Printer.jsonValue($0) }
            }
        }
        return object
    }
}

/// A failed operation: exit 1 with this message.
struct CLIError: Error {
    var message: String
    /// The records that explain the failure, by name (the likely duplicates of a family not added), for
    /// `--json`.
    var records: [String: [[String: Value]]] = [:]

    init(_ message: String, records: [String: [[String: Value]]] = [:]) {
        self.message = message
        self.records = records
    }

    init(_ error: any Error) {
        switch error {
        case let error as CLIError: self = error
        default: message = Localized.message(for: error)
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

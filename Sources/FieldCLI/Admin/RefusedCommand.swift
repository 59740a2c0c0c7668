import ArgumentParser
import Foundation
import SyncCore

/// The records a server refused (or this node's server refused from it), kept aside for the admin.
struct RefusedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refused",
        abstract: "Records refused one by one (another city's, a bad reference, a bad value): list, accept, drop.",
        discussion: """
            A server applies the valid records of a push and keeps each refused one here with the reason;
            a device keeps the ones its server refused. Nothing refused is lost: accept one after all (it is
            written here, as the admin's write, and syncs out), or drop it once it is dealt with.
            Examples:
              field admin refused list --db central.db
              field admin refused accept 12 --db central.db
              field admin refused drop 13 --db central.db
            """,
        subcommands: [List.self, Accept.self, Drop.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The refused records still open, newest first.")
        @OptionGroup var device: DeviceOptions
        @OptionGroup var output: OutputOptions
        @Flag(help: "Dropped ones too.") var all = false

        func run() throws {
            let device = try device.open()
            let entries = try operation { try device.replica.refusedRecords(status: all ? nil : "open") }
            if output.json { return Printer.json(entries.map(RefusedJSON.object)) }
            Printer.table(
                ["#", "WHEN", "RECORD", "WHY", "FROM", "STATE"],
                entries.map {
                    [
                        String($0.id), Printer.date($0.atMillis), "\($0.refusal.collection)/\($0.refusal.id)",
                        $0.refusal.code.rawValue + ($0.refusal.field.map { " (\($0))" } ?? ""), $0.source ?? "-",
                        $0.status,
                    ]
                })
            for entry in entries { Printer.line("#\(entry.id): \(entry.refusal.detail)") }
        }
    }

    /// The refused record a command acts on.
    struct Number: ParsableArguments {
        @Argument(help: "The number `list` shows.") var number: Int64

        func validate() throws {
            guard number > 0 else { throw ValidationError("The number is the one 'list' shows (1 or more).") }
        }
    }

    struct Accept: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a refused record here after all (the schema's rules still apply).")
        @OptionGroup var device: DeviceOptions
        @OptionGroup var refused: Number

        func run() throws {
            let device = try device.open()
            let ref = try operation { try device.replica.acceptRefused(refused.number) }
            Printer.line(
                "accepted #\(refused.number): \(ref.collection)/\(ref.id) written here; it syncs out with the next sync"
            )
        }
    }

    struct Drop: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Mark a refused record as dealt with.")
        @OptionGroup var device: DeviceOptions
        @OptionGroup var refused: Number

        func run() throws {
            let device = try device.open()
            guard try operation({ try device.replica.dropRefused(refused.number) }) else {
                throw CLIError("No open refused record #\(refused.number): 'field admin refused list' shows them.")
            }
            Printer.line("dropped #\(refused.number)")
        }
    }
}

enum RefusedJSON {
    static func object(_ entry: RefusedEntry) -> [String: Any] {
        [
            "number": entry.id, "collection": entry.refusal.collection, "id": entry.refusal.id,
            "code": entry.refusal.code.rawValue, "field": entry.refusal.field as Any? ?? NSNull(),
            "detail": entry.refusal.detail, "record": entry.record as Any? ?? NSNull(),
            "source": entry.source as Any? ?? NSNull(), "at": Printer.date(entry.atMillis), "status": entry.status,
        ]
    }
}

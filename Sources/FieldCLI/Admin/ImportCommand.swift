import ArgumentParser
import FieldDomain
import Foundation
import SyncCore

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import families, associations or campaigns from a spreadsheet's CSV; list imports; undo one.",
        discussion: """
            A row whose reference (families: within its association), id (associations) or code (campaigns) is
            already known changes that record; importing the same file again changes nothing. A file with bad
            rows imports nothing (each is named with its line) unless --skip-bad-rows; new families that are
            likely duplicates of a family of their city (or of an earlier row) are left out unless accepted.
            Examples:
              field admin import families --template --out families.csv
              field admin import families --csv families.csv --dry-run --db central.db
              field admin import families --csv families.csv --accept AM-0042 --db central.db
              field admin import list --db central.db
              field admin import undo 3 --db central.db
            """,
        subcommands: [Families.self, Associations.self, Campaigns.self, List.self, Undo.self])

    struct Families: ImportKindCommand {
        static let kind = ImportKind.families
        static let configuration = CommandConfiguration(
            abstract: "Import families (city, association, reference, head_name, phone, household_size, …).")
        @OptionGroup var device: DeviceOptions
        @OptionGroup var file: ImportFileOptions
        @OptionGroup var output: OutputOptions
    }

    struct Associations: ImportKindCommand {
        static let kind = ImportKind.associations
        static let configuration = CommandConfiguration(abstract: "Import associations (id, name, city).")
        @OptionGroup var device: DeviceOptions
        @OptionGroup var file: ImportFileOptions
        @OptionGroup var output: OutputOptions
    }

    struct Campaigns: ImportKindCommand {
        static let kind = ImportKind.campaigns
        static let configuration = CommandConfiguration(
            abstract: "Import campaigns (code, name, phase, from, to, items).")
        @OptionGroup var device: DeviceOptions
        @OptionGroup var file: ImportFileOptions
        @OptionGroup var output: OutputOptions
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The imports made on this replica, oldest first.")
        @OptionGroup var device: DeviceOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let device = try device.open()
            let records = try operation { try device.replica.imports() }
            if output.json { return Printer.json(["imports": records.map(ImportReport.recordJSON)]) }
            guard !records.isEmpty else { return Printer.line("No imports on this replica.") }
            Printer.table(
                ["ID", "WHEN", "KIND", "FILE", "NEW", "CHANGED", "UNCHANGED", "LEFT OUT", "UNDONE"],
                records.map { record in
                    [
                        String(record.id), Printer.date(record.at), record.kind.rawValue, record.file,
                        String(record.created), String(record.changed), String(record.unchanged),
                        String(record.skipped), record.undoneAt.map(Printer.date) ?? "",
                    ]
                })
        }
    }

    struct Undo: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Undo an import: delete what it created, give what it changed its values back.",
            discussion: """
                Refused, with nothing changed, when a record the import wrote was changed since (an edit, a later
                import) or a record it created is now named by another (a delivery, a family of the association).
                Example:
                  field admin import undo 3 --db central.db
                """)
        @OptionGroup var device: DeviceOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The import's id (field admin import list).") var id: Int

        func run() throws {
            let device = try device.open()
            let outcome = try operation {
                try device.replica.undoImport(id, now: Int64(SystemClock().nowMillis()))
            }
            if output.json {
                return Printer.json([
                    "import": outcome.record.id, "deleted": outcome.deleted, "restored": outcome.restored,
                ])
            }
            Printer.line(
                "undid import \(id) (\(outcome.record.kind.rawValue) from \(outcome.record.file)): "
                    + "\(outcome.deleted) deleted, \(outcome.restored) given their values back")
        }
    }
}

/// The options of `import families|associations|campaigns`.
struct ImportFileOptions: ParsableArguments {
    @Option(help: "The CSV file to import (UTF-8, with or without BOM; ';' or ',' between cells).") var csv: String?
    @Flag(help: "Check the file and show what would change; write nothing.") var dryRun = false
    @Flag(help: "Import the good rows of a file that has bad rows (by default nothing is imported).")
    var skipBadRows = false
    @Flag(help: "Import every likely duplicate too (by default they are left out).") var acceptDuplicates = false
    @Option(
        name: .customLong("accept"),
        help: "Import this likely duplicate anyway: its reference (or line number). Repeat for several.")
    var accepted: [String] = []
    @Flag(help: "Print the template CSV (the header) and what each column holds, instead of importing.")
    var template = false
    @Option(help: "With --template: write the template to this file (UTF-8 with BOM, ';').") var out: String?
}

protocol ImportKindCommand: ParsableCommand {
    static var kind: ImportKind { get }
    var device: DeviceOptions { get }
    var file: ImportFileOptions { get }
    var output: OutputOptions { get }
}

extension ImportKindCommand {
    func validate() throws {
        if file.template {
            guard file.csv == nil else { throw ValidationError("Give --template or --csv FILE, not both.") }
        } else {
            guard file.csv != nil else {
                throw ValidationError("Give the file to import: --csv FILE (or --template for a file to start from).")
            }
            guard file.out == nil else { throw ValidationError("--out goes with --template.") }
        }
    }

    func run() throws {
        let kind = Self.kind
        guard let path = file.csv else {
            if let out = file.out {
                try operation { try CSV.write(Data(kind.template.utf8), to: out) }
                Printer.line("wrote the \(kind.rawValue) template to \(out)")
            } else {
                Printer.line(String(kind.template.dropFirst()).trimmingCharacters(in: .newlines))
            }
            kind.guide.forEach(Printer.note)
            return
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError("Cannot read \(path): check the name and that it is a file you may read.")
        }
        let table = try operation { try CSVTable(data) }
        let device = try device.open()
        var options = ImportOptions()
        options.dryRun = file.dryRun
        options.skipBadRows = file.skipBadRows
        options.acceptDuplicates = file.acceptDuplicates
        options.accepted = Set(file.accepted)
        let outcome = try operation {
            try device.replica.runImport(
                kind, table, file: URL(fileURLWithPath: path).lastPathComponent, options: options,
                now: Int64(SystemClock().nowMillis()))
        }
        if output.json {
            Printer.json(ImportReport.json(outcome))
        } else {
            ImportReport.print(outcome, separator: table.separator)
        }
        let refused = outcome.plan.counts.refused
        if refused > 0, !file.skipBadRows {
            throw CLIError(
                "\(file.dryRun ? "Dry run: nothing would be" : "Nothing was") imported: "
                    + "\(refused) row(s) are refused (above). Correct them and import again, or pass --skip-bad-rows "
                    + "to import the other rows.")
        }
    }
}

import ArgumentParser
import FieldDomain
import Foundation
import GRDB
import SyncCore

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "The admin report: totals, entitlement breaches, likely duplicates, conflicts, stale devices.",
        discussion: """
            Reads a replica that holds every city: central's file, or an admin device synced with central.
            Examples:
              field report --db central.db
              field report --db admin.db --json
            """)
    @OptionGroup var device: DeviceOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let device = try device.open()
        let report = try operation { try Report(device.replica, now: Int64(SystemClock().nowMillis())) }
        if output.json { return Printer.json(ReportJSON.object(report)) }
        ReportText.print(report)
    }
}

struct AdminCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin",
        abstract: "Admin changes: merge duplicate families, entitlement rules, refused records.",
        subcommands: [MergeFamily.self, Rule.self, RefusedCommand.self])

    struct MergeFamily: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "merge-family",
            abstract: "Mark a family as a duplicate of another: reports count its deliveries for the kept one.",
            discussion: "Example:\n  field admin merge-family TUN-0043 --into TUN-0042 --db central.db")
        @OptionGroup var device: DeviceOptions
        @Argument(help: "The duplicate family (reference or id).") var duplicate: String
        @Option(help: "The family to keep (reference or id).") var into: String

        func run() throws {
            let device = try device.open()
            let dup = try operation { try device.requireFamily(duplicate) }
            let keep = try operation { try device.requireFamily(into) }
            guard let dupID = dup["id"]?.textValue, let keepID = keep["id"]?.textValue, dupID != keepID else {
                throw CLIError("A family cannot be merged into itself.")
            }
            guard dup["city"] == keep["city"] else {
                throw CLIError(
                    "The two families are in different cities (\(dup["city"] ?? .null), \(keep["city"] ?? .null)).")
            }
            if keep["merged_into"]?.textValue != nil {
                throw CLIError("\(into) is itself merged into another family: merge into that one.")
            }
            try operation {
                try device.replica.write { tx in try tx.editFamily(dupID, ["merged_into": .text(keepID)]) }
            }
            Printer.line(
                "merged \(dup["reference"]?.description ?? dupID) into \(keep["reference"]?.description ?? keepID)")
        }
    }

    struct Rule: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Entitlement rules (synced down to every device).", subcommands: [Set.self, List.self])

        struct Set: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Add or change the rule for an item (and campaign).",
                discussion:
                    "Example:\n  field admin rule set --item food_pack --campaign 2026-winter --max 1 --db admin.db")
            @OptionGroup var device: DeviceOptions
            @Option(help: "food_pack, connectivity_pack or internet_recharge.") var item: String
            @Option(help: "The campaign it applies to (default: every campaign).") var campaign: String?
            @Option(help: "The most a family may receive.") var max: Int
            @Option(help: "Counted over this many days (default: the whole campaign).") var windowDays: Int?

            func validate() throws {
                guard DeliveryItem(rawValue: item) != nil else {
                    throw ValidationError(
                        "--item must be one of \(DeliveryItem.allCases.map(\.rawValue).joined(separator: ", ")).")
                }
                guard max >= 0 else { throw ValidationError("--max must be 0 or more.") }
                if let windowDays, windowDays < 1 { throw ValidationError("--window-days must be at least 1.") }
            }

            func run() throws {
                let device = try device.open()
                // One rule per item and campaign: its id says which.
                let id = "rule-\(item)-\(campaign ?? "any")".replacingOccurrences(of: " ", with: "_")
                try operation {
                    try device.replica.write { tx in
                        var values: [String: Value] = ["item": .text(item), "max_per_family": .integer(Int64(max))]
                        values["campaign"] = campaign.map(Value.text) ?? .null
                        values["window_days"] = windowDays.map { .integer(Int64($0)) } ?? .null
                        if try device.replica.record("entitlements", id: id) != nil {
                            try tx.update("entitlements", id: id, values: values)
                        } else {
                            _ = try tx.create("entitlements", id: id, values: values)
                        }
                    }
                }
                Printer.line("rule \(id): at most \(max) \(item) per family\(campaign.map { " in \($0)" } ?? "")")
            }
        }

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List the entitlement rules.")
            @OptionGroup var device: DeviceOptions
            @OptionGroup var output: OutputOptions

            func run() throws {
                let device = try device.open()
                let rules = try operation {
                    try device.replica.read { db in
                        try Row.fetchAll(
                            db,
                            sql:
                                "SELECT id, item, campaign, max_per_family, window_days FROM entitlements WHERE _deleted IS NULL ORDER BY id"
                        ).map { row -> [String: String] in
                            [
                                "id": row.text("id") ?? "", "item": row.text("item") ?? "",
                                "campaign": row.text("campaign") ?? "",
                                "max_per_family": row.text("max_per_family") ?? "",
                                "window_days": row.text("window_days") ?? "",
                            ]
                        }
                    }
                }
                if output.json { return Printer.json(rules) }
                Printer.table(
                    ["RULE", "ITEM", "CAMPAIGN", "MAX", "WINDOW (DAYS)"],
                    rules.map { [$0["id"]!, $0["item"]!, $0["campaign"]!, $0["max_per_family"]!, $0["window_days"]!] })
            }
        }
    }
}

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Export deliveries, families or breaches as CSV (RFC 4180, UTF-8).",
        discussion: """
            Examples:
              field export deliveries --csv deliveries.csv --db central.db
              field export breaches --csv breaches.csv --bom --db central.db   # --bom: for spreadsheets
              field export families --csv families.csv --raw-csv --db central.db   # for scripts
            A value that starts with = + - @ (or a tab or carriage return) and is not a plain number gets a
            leading ' so that a spreadsheet shows it rather than runs it as a formula; --raw-csv keeps it as is.
            """)
    @OptionGroup var device: DeviceOptions
    @Argument(help: "deliveries, families or breaches.") var what: String
    @Option(help: "The CSV file to write.") var csv: String
    @Flag(help: "Start with a UTF-8 byte order mark (Excel then reads Arabic and accents right).") var bom = false
    @Flag(help: "Keep values that start with = + - @ as they are (for scripts; a spreadsheet would run them).")
    var rawCsv = false

    func validate() throws {
        guard ["deliveries", "families", "breaches"].contains(what) else {
            throw ValidationError("Export deliveries, families or breaches; found '\(what)'.")
        }
    }

    func run() throws {
        let device = try device.open()
        let report = try operation { try Report(device.replica, now: Int64(SystemClock().nowMillis())) }
        let (header, rows) = try operation { try ReportCSV.table(what, report: report, replica: device.replica) }
        try operation { try CSV.write(CSV.document(header: header, rows: rows, bom: bom, raw: rawCsv), to: csv) }
        Printer.line("wrote \(rows.count) \(what) to \(csv)")
    }
}

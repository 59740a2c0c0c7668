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
    @Option(help: "A device holding fewer unused recharge codes than this is running low.") var lowBelow = 5

    func run() throws {
        let device = try device.open()
        let report = try operation {
            try Report(device.replica, now: Int64(SystemClock().nowMillis()), voucherLowBelow: lowBelow)
        }
        if output.json { return Printer.json(ReportJSON.object(report)) }
        ReportText.print(report)
    }
}

struct AdminCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin",
        abstract: "Admin changes: the catalogue, campaigns, associations, rules, merges, refused records, imports, "
            + "recharge codes.",
        subcommands: [
            MergeFamily.self, NotDuplicate.self, Rule.self, ItemCommand.self, CampaignCommand.self,
            AssociationCommand.self,
            RefusedCommand.self, ImportCommand.self, AdminVouchersCommand.self,
        ])

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
            let target = try operation {
                try FamilyMerge.target(
                    duplicate: dup, keep: keep, groups: DeliveryLedger(device.replica).familyGroups())
            }
            let dupID = dup["id"]?.textValue ?? duplicate
            try operation {
                try device.replica.write { tx in try tx.editFamily(dupID, ["merged_into": .text(target)]) }
            }
            let kept = target == keep["id"]?.textValue ? keep["reference"]?.description ?? target : target
            Printer.line("merged \(dup["reference"]?.description ?? dupID) into \(kept)")
        }
    }

    struct NotDuplicate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "not-duplicate",
            abstract: "Mark two families as different families: the report never pairs them again.",
            discussion:
                "Example:\n  field admin not-duplicate FES-0012 FES-0417 --note \"cousins, two households\" --db central.db"
        )
        @OptionGroup var device: DeviceOptions
        @Argument(help: "A family (reference or id).") var family: String
        @Argument(help: "The other family (reference or id).") var other: String
        @Option(help: "Why (kept with the mark).") var note: String?

        func run() throws {
            let device = try device.open()
            let first = try operation { try device.requireFamily(family) }
            let second = try operation { try device.requireFamily(other) }
            guard let a = first["id"]?.textValue, let b = second["id"]?.textValue, a != b else {
                throw CLIError("Give two different families.")
            }
            guard case .text(let city) = first["city"] ?? .null, first["city"] == second["city"] else {
                throw CLIError("The two families are in different cities: they cannot be duplicates anyway.")
            }
            try operation { try device.replica.write { tx in try tx.markDistinct(a, b, city: city, note: note) } }
            Printer.line(
                "\(first["reference"]?.description ?? a) and \(second["reference"]?.description ?? b) are different families"
            )
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
            @Option(help: "The item's code in the catalogue.") var item: String
            @Option(help: "The campaign it applies to (default: each campaign, counted within each).") var campaign:
                String?
            @Option(help: "The most a family may receive.") var max: Int
            @Option(help: "Counted over this many days (default: the whole campaign).") var windowDays: Int?

            func validate() throws {
                guard max >= 0 else { throw ValidationError("--max must be 0 or more.") }
                if let windowDays, windowDays < 1 { throw ValidationError("--window-days must be at least 1.") }
            }

            func run() throws {
                let device = try device.open()
                let id = try operation {
                    try device.replica.write { tx in
                        try tx.setRule(item: item, campaign: campaign, max: max, windowDays: windowDays)
                    }
                }
                Printer.line(
                    "rule \(id): at most \(max) \(item) per family \(campaign.map { "in \($0)" } ?? "in each campaign")"
                )
            }
        }

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "List the entitlement rules: the admin's, and each campaign's count per family.")
            @OptionGroup var device: DeviceOptions
            @OptionGroup var output: OutputOptions

            func run() throws {
                let device = try device.open()
                let rules = try operation {
                    try EntitlementRule.all(in: device.replica.records, catalogue: Catalogue(device.replica.records))
                }
                if output.json {
                    return Printer.json(
                        rules.map {
                            [
                                "id": $0.id, "item": $0.item, "campaign": $0.campaign as Any? ?? NSNull(),
                                "max_per_family": $0.max, "window_days": $0.windowDays as Any? ?? NSNull(),
                            ]
                        })
                }
                Printer.table(
                    ["RULE", "ITEM", "CAMPAIGN", "MAX", "WINDOW (DAYS)"],
                    rules.map {
                        [$0.id, $0.item, $0.campaign ?? "(each)", String($0.max), $0.windowDays.map(String.init) ?? ""]
                    })
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

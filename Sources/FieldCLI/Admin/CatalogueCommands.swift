import ArgumentParser
import FieldDomain
import Foundation
import SyncCore

struct ItemCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "item", abstract: "The catalogue of items (synced down to every device).",
        discussion: """
            Examples:
              field admin item set food_pack --fr "Panier alimentaire" --ar "قفة غذائية" --en "Food pack" --db central.db
              field admin item set tent --fr "Tente" --inactive --db central.db
            """,
        subcommands: [Set.self])

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add an item, or change it.")
        @OptionGroup var device: DeviceOptions
        @Argument(help: "Its code: lowercase letters, digits, '_' or '-' (what deliveries name).") var code: String
        @Option(help: "Its name in French.") var fr: String
        @Option(help: "Its name in Arabic.") var ar: String?
        @Option(help: "Its name in English.") var en: String?
        @Option(help: "Its unit (pack, recharge, kg).") var unit: String?
        @Flag(help: "No longer handed out (deliveries of it are refused).") var inactive = false

        func validate() throws {
            guard Item.isValidCode(code) else {
                throw ValidationError("An item code is 1 to 40 lowercase letters, digits, '_' or '-'; found '\(code)'.")
            }
        }

        func run() throws {
            let device = try device.open()
            let item = Item(code: code, nameFR: fr, nameAR: ar, nameEN: en, unit: unit, active: !inactive)
            try operation { try device.replica.setItem(item) }
            Printer.line("item \(code): \(fr)\(inactive ? " (inactive)" : "")")
        }
    }
}

struct CampaignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "campaign", abstract: "Campaigns: what each phase gives and how many per family.",
        discussion: """
            Once a campaign exists, every delivery names one that is open on its date and gives its item.
            Dates are days (YYYY-MM-DD), in Morocco's time (the campaign opens at 00:00 on the first day and
            closes at 23:59:59.999 on the last).
            Example:
              field admin campaign set phase-1 --name "Phase 1" --phase 1 --from 2026-12-01 --to 2027-01-31 \\
                --items "food_pack:1,connectivity_pack:1" --db central.db
            """,
        subcommands: [Set.self])

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a campaign, or change it.")
        @OptionGroup var device: DeviceOptions
        @Argument(help: "Its code: lowercase letters, digits, '_' or '-' (what deliveries name).") var code: String
        @Option(help: "Its name.") var name: String
        @Option(name: .customLong("name-fr"), help: "Its name in French (for volunteers reading French).")
        var nameFR: String?
        @Option(name: .customLong("name-ar"), help: "Its name in Arabic (for volunteers reading Arabic).")
        var nameAR: String?
        @Option(help: "Its phase (1, 2, …).") var phase: Int?
        @Option(help: "First day (YYYY-MM-DD).") var from: String
        @Option(help: "Last day (YYYY-MM-DD).") var to: String
        @Option(help: "What it gives, with the most per family: food_pack:1,internet_recharge:3 (no count: no limit).")
        var items: String

        func validate() throws {
            guard Item.isValidCode(code) else {
                throw ValidationError(
                    "A campaign code is 1 to 40 lowercase letters, digits, '_' or '-'; found '\(code)'.")
            }
            if let phase, !(1...99).contains(phase) { throw ValidationError("--phase must be 1 to 99.") }
            for (option, day) in [("--from", from), ("--to", to)] where CampaignDays.start(of: day) == nil {
                throw ValidationError("\(option) must be a day like 2026-12-01; found '\(day)'.")
            }
            do { _ = try Campaign.parseItems(items) } catch { throw ValidationError("--items: \(error.detail)") }
        }

        func run() throws {
            let device = try device.open()
            let starts = CampaignDays.start(of: from)!
            let ends = CampaignDays.start(of: to)! + 86_400_000 - 1
            guard ends >= starts else { throw CLIError("--to (\(to)) is before --from (\(from)).") }
            let campaign = Campaign(
                code: code, name: name, phase: phase, startsAt: starts, endsAt: ends,
                items: try Campaign.parseItems(items), nameFR: nameFR, nameAR: nameAR)
            try operation { try device.replica.write { tx in try tx.setCampaign(campaign) } }
            Printer.line("campaign \(code): \(from) to \(to), gives \(Campaign.formatItems(campaign.items))")
        }
    }
}

struct AssociationCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "association", abstract: "Partner associations, one city each.",
        discussion:
            "Example:\n  field admin association add --city Fès --name \"Association Amal\" --id amal-fes --db central.db",
        subcommands: [Add.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add an association working in a city.")
        @OptionGroup var device: DeviceOptions
        @Option(help: "The city it works in.") var city: String
        @Option(help: "Its name.") var name: String
        @Option(help: "Its id (default: a new one); volunteers' devices and families name it.") var id: String?

        func run() throws {
            let device = try device.open()
            let created = try operation {
                try device.replica.write { tx in try tx.addAssociation(name: name, city: city, id: id) }
            }
            Printer.line("association \(created): \(name) (\(city))")
        }
    }
}

struct CatalogueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalogue",
        abstract: HelpText.catalogue(),
        discussion: HelpText.discussion(nil, examples: ["field catalogue", "field catalogue --json"]))
    @OptionGroup var device: DeviceOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let device = try device.open()
        let catalogue = try operation { try Catalogue(device.replica.records) }
        let now = Int64(try operation { try device.replica.correctedNowMillis() })
        let open = catalogue.openCampaigns(at: now)
        if output.json {
            return Printer.json([
                "items": catalogue.activeItems.map {
                    [
                        "code": $0.code, "name_fr": $0.nameFR, "name_ar": $0.nameAR as Any? ?? NSNull(),
                        "name_en": $0.nameEN as Any? ?? NSNull(), "unit": $0.unit as Any? ?? NSNull(),
                    ]
                },
                "open_campaigns": open.map {
                    [
                        "code": $0.code, "name": $0.name, "name_fr": $0.nameFR as Any? ?? NSNull(),
                        "name_ar": $0.nameAR as Any? ?? NSNull(), "ends": FieldSyncRules.day($0.endsAt),
                        "items": Campaign.formatItems($0.items),
                    ]
                },
                "campaigns_set_up": !catalogue.campaigns.isEmpty,
            ])
        }
        // The name in the volunteer's language first, then the others the admin gave.
        let others = Language.allCases.filter { $0 != Language.current }
        Printer.table(
            [DeliveryText.colItem(), DeliveryText.colName()] + others.map(\.name) + [DeliveryText.colUnit()],
            catalogue.activeItems.map { item in
                [item.code, Localized.name(of: item)] + others.map { Self.name(item, $0) } + [item.unit ?? ""]
            })
        Printer.line("")
        if catalogue.campaigns.isEmpty {
            Printer.line(DeliveryText.noCampaigns())
        } else if open.isEmpty {
            Printer.line(DeliveryText.noneOpen())
        } else {
            Printer.table(
                [DeliveryText.colCampaign(), DeliveryText.colName(), DeliveryText.colUntil(), DeliveryText.colGives()],
                open.map {
                    [$0.code, Localized.name(of: $0), FieldSyncRules.day($0.endsAt), Campaign.formatItems($0.items)]
                })
        }
    }

    static func name(_ item: Item, _ language: Language) -> String {
        switch language {
        case .en: item.nameEN ?? ""
        case .fr: item.nameFR
        case .ar: item.nameAR ?? ""
        }
    }
}

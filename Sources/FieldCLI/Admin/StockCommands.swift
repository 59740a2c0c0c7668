import ArgumentParser
import FieldDomain
import Foundation
import SyncCore

/// `field hub stock …`: the hub's packs, as its operator records them (decision record 0020).
struct HubStockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stock",
        abstract: "The hub's packs: received from the warehouse, sent back, lost, counted; what is on hand.",
        discussion: """
            On hand = received − returned − lost + corrections − what the city's volunteers handed out (their
            deliveries, voids aside, as far as this replica has them). Volunteers' devices see it after a sync
            and warn when an item runs out.
            Examples:
              field hub stock receive --city Fès --item food_pack --qty 300 --note "BL-2026-118" --db hub-fes.db
              field hub stock lost --city Fès --item food_pack --qty 4 --note "rain damage" --db hub-fes.db
              field hub stock count --city Fès --item food_pack --on-hand 212 --db hub-fes.db
              field hub stock list --db hub-fes.db
            """,
        subcommands: [Receive.self, Return.self, Lost.self, Count.self, List.self], defaultSubcommand: List.self)

    /// What every move needs: where, which item, who records it.
    struct MoveOptions: ParsableArguments {
        @OptionGroup var device: DeviceOptions
        @Option(help: "The hub's city.") var city: String
        @Option(help: "The item's code in the catalogue, e.g. food_pack.") var item: String
        @Option(help: "A note: the warehouse's delivery note number, what happened.") var note: String?
        @Option(help: "Who records it (default: $USER).") var by: String?

        var operatorName: String { by ?? ProcessInfo.processInfo.environment["USER"] ?? "hub" }

        func validate() throws {
            guard !city.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--city is empty.") }
        }

        /// Records `kind` of `quantity` and prints the stock on hand after it.
        func record(_ kind: Stock.Kind, _ quantity: Int, note: String? = nil) throws {
            let hub = try device.open()
            let level = try operation {
                let now = try hub.replica.correctedNowMillis()
                try hub.replica.write { tx in
                    try tx.recordStockMove(
                        NewStockMove(
                            city: city, item: item, kind: kind, quantity: quantity, movedAt: now,
                            operatorName: operatorName, note: note ?? self.note))
                }
                return try Stock.levels(hub.replica, city: city, item: item).first
            }
            let onHand = level.map { "\($0.onHand)" } ?? "?"
            Printer.line("recorded: \(kind.rawValue) \(quantity) \(item) in \(city); on hand \(onHand)")
        }
    }

    struct Receive: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Packs arrived from the warehouse.")
        @OptionGroup var move: MoveOptions
        @Option(name: .customLong("qty"), help: "How many (1 or more).") var quantity: Int

        func validate() throws { try HubStockCommand.positive(quantity) }
        func run() throws { try move.record(.received, quantity) }
    }

    struct Return: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Packs sent back to the warehouse.")
        @OptionGroup var move: MoveOptions
        @Option(name: .customLong("qty"), help: "How many (1 or more).") var quantity: Int

        func validate() throws { try HubStockCommand.positive(quantity) }
        func run() throws { try move.record(.returned, quantity) }
    }

    struct Lost: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Packs damaged, spoiled or stolen.")
        @OptionGroup var move: MoveOptions
        @Option(name: .customLong("qty"), help: "How many (1 or more).") var quantity: Int

        func validate() throws { try HubStockCommand.positive(quantity) }
        func run() throws { try move.record(.lost, quantity) }
    }

    struct Count: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A count of the packs on the shelves: records the difference with what the records say.")
        @OptionGroup var move: MoveOptions
        @Option(help: "How many packs the count found.") var onHand: Int

        func validate() throws {
            guard (0...1_000_000).contains(onHand) else {
                throw ValidationError("--on-hand must be 0 to 1000000, found \(onHand).")
            }
        }

        func run() throws {
            let hub = try move.device.open()
            let level = try operation { try Stock.levels(hub.replica, city: move.city, item: move.item).first }
            let difference = onHand - (level?.onHand ?? 0)
            guard difference != 0 else {
                return Printer.line("the count matches the records: \(onHand) \(move.item) on hand; nothing recorded")
            }
            try move.record(
                .corrected, difference,
                note: (["count: \(onHand) on hand"] + [move.note].compactMap { $0 })
                    .joined(separator: " — "))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Each city's and item's stock, as this replica knows it.")
        @OptionGroup var device: DeviceOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Only this city.") var city: String?

        func run() throws {
            let replica = try device.open().replica
            StockOutput.print(try operation { try Stock.levels(replica, city: city) }, json: output.json)
        }
    }

    static func positive(_ quantity: Int) throws {
        guard (1...1_000_000).contains(quantity) else {
            throw ValidationError("--qty must be 1 to 1000000, found \(quantity).")
        }
    }
}

/// `field stock`: what the volunteer's hub has left, as this device knows it.
struct StockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stock", abstract: HelpText.stock(),
        discussion: HelpText.discussion(nil, examples: ["field stock"]))
    @OptionGroup var device: DeviceOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let device = try device.open()
        let city = try device.requireCity()
        StockOutput.print(try operation { try Stock.levels(device.replica, city: city) }, json: output.json)
    }
}

/// How the CLI shows stock: a table, a warning on a delivery, the report's section.
enum StockOutput {
    static func print(_ levels: [Stock.Level], json: Bool) {
        if json { return Printer.json(["stock": levels.map(object)]) }
        guard !levels.isEmpty else { return Printer.line(SheetText.noStock()) }
        table(levels)
    }

    /// `language`: the admin's report stays in English.
    static func table(_ levels: [Stock.Level], language: Language = .current) {
        let columns: [SheetText] = [
            .colCity, .colItem, .colReceived, .colReturned, .colLost, .colCorrected, .colHandedOut, .colOnHand,
        ]
        Printer.table(
            columns.map { $0.text(language) } + [""],
            levels.map { level in
                [
                    level.city, level.item, String(level.received), String(level.returned), String(level.lost),
                    String(level.corrected), String(level.handedOut), String(level.onHand),
                    level.isOverdrawn
                        ? SheetText.overdrawn.text(language) : level.onHand == 0 ? SheetText.out.text(language) : "",
                ]
            })
    }

    static func object(_ level: Stock.Level) -> [String: Any] {
        [
            "city": level.city, "item": level.item, "received": level.received, "returned": level.returned,
            "lost": level.lost, "corrected": level.corrected, "handed_out": level.handedOut,
            "on_hand": level.onHand, "overdrawn": level.isOverdrawn,
        ]
    }

    /// After a delivery: a warning when the hub's known stock of the item is out (nothing when the hub
    /// records no stock of it). The volunteer may hold packs the hub gave out earlier: a warning, not a refusal.
    static func warnIfOut(_ replica: Replica, city: String, item: String) -> Int? {
        guard let level = try? Stock.levels(replica, city: city, item: item).first else { return nil }
        if level.onHand <= 0 {
            let name = Localized.itemName(item, try? Catalogue(replica.records))
            Printer.note(SheetText.stockOut(name, level.available, level.handedOut))
        }
        return level.onHand
    }
}

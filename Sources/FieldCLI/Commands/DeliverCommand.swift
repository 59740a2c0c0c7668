import ArgumentParser
import FieldDomain
import Foundation
import GRDB
import SyncCore

struct DeliverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deliver",
        abstract: "Log a delivery to a family (offline); checks the entitlement rules this device has.",
        discussion: """
            A delivery that would break a rule (the family already received the item this campaign) is refused
            with the evidence, unless --override "reason" is given (the reason is kept with the delivery).
            Examples:
              field deliver --family TUN-0042 --item food_pack --campaign 2026-winter
              field deliver --family TUN-0042 --item internet_recharge --qty 2 --note "two phones"
              field deliver --family TUN-0042 --item food_pack --campaign 2026-winter --override "newborn, hub ok"
              field deliver --csv sheet.csv     # a paper sheet typed in: family,item,qty,campaign,note
            """)

    @OptionGroup var device: DeviceOptions
    @OptionGroup var output: OutputOptions
    @Option(help: "The family's reference or id.") var family: String?
    @Option(help: "The item's code in the catalogue (`field catalogue` lists them), e.g. food_pack.") var item: String?
    @Option(name: .customLong("qty"), help: "How many (1 or more).") var quantity = 1
    @Option(help: "The campaign's code, e.g. phase-1 (`field catalogue` lists the open ones).") var campaign: String?
    @Option(help: "A note.") var note: String?
    @Option(help: "Log it even if it breaks a rule; the reason is kept.") var override: String?
    @Option(
        help: "A sheet of deliveries to log (CSV: family, item, and optionally qty, campaign, note): all or none.")
    var csv: String?
    @Flag(help: "With --csv: check the sheet, log nothing.") var dryRun = false

    func validate() throws {
        guard (csv == nil) == (family != nil && item != nil), csv == nil || family == nil && item == nil else {
            throw ValidationError("Give --family and --item, or --csv FILE.")
        }
        if csv != nil, override != nil { throw ValidationError("--override is for one delivery, not a sheet.") }
        if dryRun, csv == nil { throw ValidationError("--dry-run checks a sheet: give --csv FILE.") }
        guard quantity >= 1 else { throw ValidationError("--qty must be at least 1, found \(quantity).") }
        if let override, override.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("--override needs a reason.")
        }
    }

    func run() throws {
        let device = try device.open()
        let city = try device.requireCity()
        if let csv {
            return try DeliverySheet(device: device, city: city).run(path: csv, dryRun: dryRun, json: output.json)
        }
        guard let family, let item else { return }
        let record = try operation { try device.requireFamily(family) }
        let familyID = record["id"]?.textValue ?? family
        var noteText = note
        if let override { noteText = [note, "override: \(override)"].compactMap { $0 }.joined(separator: " — ") }
        // The device's corrected clock, as its stamps: a clock repair then moves `delivered_at` with them.
        let now = try operation { try device.replica.correctedNowMillis() }
        let delivery = NewDelivery(
            city: city, family: familyID, item: item, quantity: quantity, campaign: campaign,
            deliveredAt: now, volunteer: device.volunteer, note: noteText,
            association: device.association)
        let id: String
        let verdict: DeliveryVerdict
        let code: String?
        switch try DeliveryEntry.log(delivery, on: device, override: override != nil) {
        case .logged(let logged, let checked, let voucher): (id, verdict, code) = (logged, checked, voucher)
        case .refused(let verdict): throw refusal(verdict, reference: record["reference"]?.description ?? familyID)
        }
        let onHand = StockOutput.warnIfOut(device.replica, city: city, item: item)
        if output.json {
            Printer.json([
                "id": id, "family": familyID, "counted_for": verdict.family, "item": item, "quantity": quantity,
                "override": override != nil, "voucher": code as Any? ?? NSNull(),
                "stock_on_hand": onHand as Any? ?? NSNull(),
            ])
        } else if let code {
            Printer.line("recharge code \(code) for \(record["reference"]?.description ?? familyID) (\(id))")
        } else {
            Printer.line("logged \(quantity) \(item) for \(record["reference"]?.description ?? familyID) (\(id))")
        }
    }

    /// Prints the rules a delivery would break and the deliveries they count; the error to exit with.
    private func refusal(_ verdict: DeliveryVerdict, reference: String) -> CLIError {
        for breach in verdict.breaches { Printer.note("Rule: \(breach.rule.sentence).") }
        Printer.note("Already delivered to \(reference):")
        DeliveryIndex.print(verdict.evidence, evidence: true)
        let rules = verdict.breaches.map { breach -> [String: Value] in
            [
                "id": .text(breach.rule.id), "item": .text(breach.rule.item),
                "max": .integer(Int64(breach.rule.max)), "campaign": breach.rule.campaign.map(Value.text) ?? .null,
                "window_days": breach.rule.windowDays.map { .integer(Int64($0)) } ?? .null,
            ]
        }
        return CLIError(
            "Not logged: this would break the rule. If it is justified, add --override \"reason\".",
            records: ["rules": rules, "evidence": verdict.evidence.map(DeliveryIndex.values)])
    }
}

struct VoidCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "void", abstract: "Void a delivery logged by mistake (a new record; nothing is erased).",
        discussion: "Example:\n  field void 01JD8X3K5Q2M4N6P8R0T2V4W6Y --reason \"wrong family\"")
    @OptionGroup var device: DeviceOptions
    @Argument(help: "The delivery's id.") var delivery: String
    @Option(help: "Why.") var reason: String

    func validate() throws {
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--reason is empty.") }
    }

    func run() throws {
        let device = try device.open()
        let city = try device.requireCity()
        guard try operation({ try device.replica.record("deliveries", id: delivery) }) != nil else {
            throw CLIError(
                "No delivery '\(delivery)' on this device. `field family show REF` lists a family's deliveries.")
        }
        let id = try operation {
            let now = try device.replica.correctedNowMillis()
            return try device.replica.write { tx in
                try tx.voidDelivery(delivery, city: city, reason: reason, volunteer: device.volunteer, at: now)
            }
        }
        Printer.line("voided delivery \(delivery) (\(id))")
    }
}

/// How the CLI shows deliveries.
enum DeliveryIndex {
    static func json(_ delivery: LedgerDelivery) -> [String: Any] {
        [
            "id": delivery.id, "family": delivery.family, "item": delivery.item, "quantity": delivery.quantity,
            "campaign": delivery.campaign as Any? ?? NSNull(), "delivered_at": delivery.deliveredAt,
            "volunteer": delivery.volunteer, "note": delivery.note as Any? ?? NSNull(),
        ]
    }

    static func values(_ delivery: LedgerDelivery) -> [String: Value] {
        [
            "id": .text(delivery.id), "family": .text(delivery.family), "item": .text(delivery.item),
            "quantity": .integer(Int64(delivery.quantity)), "campaign": delivery.campaign.map(Value.text) ?? .null,
            "delivered_at": .integer(delivery.deliveredAt), "volunteer": .text(delivery.volunteer),
            "note": delivery.note.map(Value.text) ?? .null,
        ]
    }

    static func print(_ deliveries: [LedgerDelivery], evidence: Bool = false) {
        guard !deliveries.isEmpty else {
            return evidence ? Printer.note("no deliveries") : Printer.line("no deliveries")
        }
        Printer.table(
            ["WHEN", "ITEM", "QTY", "CAMPAIGN", "VOLUNTEER", "DELIVERY"],
            deliveries.map { delivery in
                [
                    Printer.date(delivery.deliveredAt), delivery.item, String(delivery.quantity),
                    delivery.campaign ?? "", delivery.volunteer, delivery.id,
                ]
            }, evidence: evidence)
    }
}

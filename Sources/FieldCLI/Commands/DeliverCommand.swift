import ArgumentParser
import FieldDomain
import Foundation
import GRDB
import SyncCore

struct DeliverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deliver",
        abstract: HelpText.deliver(),
        discussion: HelpText.discussion(
            .deliverDiscussion,
            examples: [
                "field deliver --family TUN-0042 --item food_pack --campaign 2026-winter",
                "field deliver --family TUN-0042 --item internet_recharge --qty 2 --note \"two phones\"",
                "field deliver --family TUN-0042 --item food_pack --campaign 2026-winter --override \"newborn, hub ok\"",
                "field deliver --csv sheet.csv",
            ]))

    @OptionGroup var device: DeviceOptions
    @OptionGroup var output: OutputOptions
    @Option(help: OptionText.familyRef.help) var family: String?
    @Option(help: OptionText.item.help) var item: String?
    @Option(name: .customLong("qty"), help: OptionText.quantity.help) var quantity = 1
    @Option(help: OptionText.campaign.help) var campaign: String?
    @Option(help: OptionText.note.help) var note: String?
    @Option(help: OptionText.override.help) var override: String?
    @Option(help: OptionText.sheet.help) var csv: String?
    @Flag(help: OptionText.dryRun.help) var dryRun = false

    func validate() throws {
        guard (csv == nil) == (family != nil && item != nil), csv == nil || family == nil && item == nil else {
            throw ValidationError(UsageText.familyOrSheet())
        }
        if csv != nil, override != nil { throw ValidationError(UsageText.overrideSheet()) }
        if dryRun, csv == nil { throw ValidationError(UsageText.dryRunSheet()) }
        guard quantity >= 1 else { throw ValidationError(UsageText.quantity(quantity)) }
        if let override, override.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError(UsageText.overrideReason())
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
        case .refused(let verdict):
            throw refusal(verdict, reference: record["reference"]?.description ?? familyID, device: device)
        }
        let onHand = StockOutput.warnIfOut(device.replica, city: city, item: item)
        if output.json {
            Printer.json([
                "id": id, "family": familyID, "counted_for": verdict.family, "item": item, "quantity": quantity,
                "override": override != nil, "voucher": code as Any? ?? NSNull(),
                "stock_on_hand": onHand as Any? ?? NSNull(),
            ])
        } else if let code {
            Printer.line(DeliveryText.rechargeCode(code, record["reference"]?.description ?? familyID, id))
        } else {
            let name = Localized.itemName(item, try? Catalogue(device.replica.records))
            Printer.line(DeliveryText.logged(quantity, name, record["reference"]?.description ?? familyID, id))
        }
    }

    /// Prints the rules a delivery would break and the deliveries they count; the error to exit with.
    private func refusal(_ verdict: DeliveryVerdict, reference: String, device: Device) -> CLIError {
        let catalogue = try? Catalogue(device.replica.records)
        for breach in verdict.breaches {
            Printer.note(DeliveryText.rule(Localized.rule(breach.rule, catalogue: catalogue)))
        }
        Printer.note(DeliveryText.alreadyDelivered(reference))
        DeliveryIndex.print(verdict.evidence, evidence: true, catalogue: catalogue)
        let rules = verdict.breaches.map { breach -> [String: Value] in
            [
                "id": .text(breach.rule.id), "item": .text(breach.rule.item),
                "max": .integer(Int64(breach.rule.max)), "campaign": breach.rule.campaign.map(Value.text) ?? .null,
                "window_days": breach.rule.windowDays.map { .integer(Int64($0)) } ?? .null,
            ]
        }
        return CLIError(
            DeliveryText.notLogged(), records: ["rules": rules, "evidence": verdict.evidence.map(DeliveryIndex.values)])
    }
}

struct VoidCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "void", abstract: HelpText.void(),
        discussion: HelpText.discussion(
            nil, examples: ["field void 01JD8X3K5Q2M4N6P8R0T2V4W6Y --reason \"wrong family\""]))
    @OptionGroup var device: DeviceOptions
    @Argument(help: OptionText.delivery.help) var delivery: String
    @Option(help: OptionText.reason.help) var reason: String

    func validate() throws {
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ValidationError(UsageText.reasonEmpty())
        }
    }

    func run() throws {
        let device = try device.open()
        let city = try device.requireCity()
        guard try operation({ try device.replica.record("deliveries", id: delivery) }) != nil else {
            throw CLIError(DeliveryText.noDelivery(delivery))
        }
        let id = try operation {
            let now = try device.replica.correctedNowMillis()
            return try device.replica.write { tx in
                try tx.voidDelivery(delivery, city: city, reason: reason, volunteer: device.volunteer, at: now)
            }
        }
        Printer.line(DeliveryText.voided(delivery, id))
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

    static func print(_ deliveries: [LedgerDelivery], evidence: Bool = false, catalogue: Catalogue? = nil) {
        guard !deliveries.isEmpty else {
            return evidence ? Printer.note(DeliveryText.noDeliveries()) : Printer.line(DeliveryText.noDeliveries())
        }
        Printer.table(
            [
                DeliveryText.colWhen(), DeliveryText.colItem(), DeliveryText.colQuantity(), DeliveryText.colCampaign(),
                DeliveryText.colVolunteer(), DeliveryText.colDelivery(),
            ],
            deliveries.map { delivery in
                [
                    Printer.date(delivery.deliveredAt), Localized.itemName(delivery.item, catalogue),
                    String(delivery.quantity),
                    delivery.campaign ?? "", delivery.volunteer, delivery.id,
                ]
            }, evidence: evidence)
    }
}

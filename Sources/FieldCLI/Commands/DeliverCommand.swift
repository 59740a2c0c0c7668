import ArgumentParser
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
            """)

    @OptionGroup var device: DeviceOptions
    @OptionGroup var output: OutputOptions
    @Option(help: "The family's reference or id.") var family: String
    @Option(help: "food_pack, connectivity_pack or internet_recharge.") var item: String
    @Option(name: .customLong("qty"), help: "How many (1 or more).") var quantity = 1
    @Option(help: "The campaign or phase, e.g. 2026-winter.") var campaign: String?
    @Option(help: "A note.") var note: String?
    @Option(help: "Log it even if it breaks a rule; the reason is kept.") var override: String?

    func validate() throws {
        guard DeliveryItem(rawValue: item) != nil else {
            throw ValidationError(
                "--item must be one of \(DeliveryItem.allCases.map(\.rawValue).joined(separator: ", ")); found '\(item)'."
            )
        }
        guard quantity >= 1 else { throw ValidationError("--qty must be at least 1, found \(quantity).") }
        if let override, override.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("--override needs a reason.")
        }
    }

    func run() throws {
        let device = try device.open()
        let city = try device.requireCity()
        let record = try operation { try device.requireFamily(family) }
        let familyID = record["id"]?.textValue ?? family
        let item = DeliveryItem(rawValue: self.item)!
        let now = SystemClock().nowMillis()
        let breaches = try operation {
            try DeliveryIndex(device).breaches(
                family: familyID, item: item, campaign: campaign, quantity: quantity, now: now)
        }
        if !breaches.isEmpty, override == nil {
            for breach in breaches {
                Printer.note(
                    "Rule: at most \(breach.rule.max) \(item.rawValue) per family\(breach.rule.campaign.map { " in \($0)" } ?? "")\(breach.rule.windowDays.map { " within \($0) days" } ?? "")."
                )
            }
            Printer.note("Already delivered to \(record["reference"]?.description ?? familyID):")
            DeliveryIndex.print(breaches.flatMap(\.evidence), evidence: true)
            let rules = breaches.map { breach -> [String: Value] in
                [
                    "item": .text(item.rawValue), "max": .integer(Int64(breach.rule.max)),
                    "campaign": breach.rule.campaign.map(Value.text) ?? .null,
                    "window_days": breach.rule.windowDays.map { .integer(Int64($0)) } ?? .null,
                ]
            }
            throw CLIError(
                "Not logged: this would break the rule. If it is justified, add --override \"reason\".",
                records: ["rules": rules, "evidence": breaches.flatMap(\.evidence)])
        }
        var noteText = note
        if let override { noteText = [note, "override: \(override)"].compactMap { $0 }.joined(separator: " — ") }
        let id = try operation {
            try device.replica.write { tx in
                try tx.logDelivery(
                    NewDelivery(
                        city: city, family: familyID, item: item, quantity: quantity, campaign: campaign,
                        deliveredAt: now, volunteer: device.volunteer, note: noteText))
            }
        }
        if output.json {
            Printer.json([
                "id": id, "family": familyID, "item": item.rawValue, "quantity": quantity, "override": override != nil,
            ])
        } else {
            Printer.line(
                "logged \(quantity) \(item.rawValue) for \(record["reference"]?.description ?? familyID) (\(id))")
        }
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
            try device.replica.write { tx in
                try tx.voidDelivery(
                    delivery, city: city, reason: reason, volunteer: device.volunteer, at: SystemClock().nowMillis())
            }
        }
        Printer.line("voided delivery \(delivery) (\(id))")
    }
}

/// Deliveries of this device's replica, and the entitlement rules it knows.
struct DeliveryIndex {
    let device: Device

    init(_ device: Device) {
        self.device = device
    }

    struct Rule: Sendable {
        var max: Int
        var campaign: String?
        var windowDays: Int?
    }

    struct Breach {
        var rule: Rule
        var evidence: [[String: Value]]
    }

    /// Non-voided deliveries to a family (and to families merged into it), oldest first.
    func deliveries(family: String) throws -> [[String: Value]] {
        try device.replica.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT d.id, d.item, d.quantity, d.campaign, d.delivered_at, d.volunteer, d.note, d.family
                    FROM deliveries d
                    WHERE (d.family = ? OR d.family IN (SELECT id FROM families WHERE merged_into = ?))
                      AND d.id NOT IN (SELECT delivery FROM delivery_voids)
                    ORDER BY d.delivered_at
                    """, arguments: [family, family])
            return rows.map { row in
                var values: [String: Value] = [:]
                for column in row.columnNames { values[column] = Value(row[column] as DatabaseValue) }
                return values
            }
        }
    }

    /// The rules this delivery would break, each with the deliveries that count against it.
    func breaches(family: String, item: DeliveryItem, campaign: String?, quantity: Int, now: UInt64) throws -> [Breach]
    {
        let rules = try device.replica.read { db in
            try Row.fetchAll(
                db,
                sql:
                    "SELECT campaign, max_per_family, window_days FROM entitlements WHERE item = ? AND _deleted IS NULL",
                arguments: [item.rawValue]
            ).map { row in
                Rule(
                    max: Int(clamping: row.integer("max_per_family") ?? 0), campaign: row.text("campaign"),
                    windowDays: row.integer("window_days").map(Int.init(clamping:)))
            }
        }
        let past = try deliveries(family: family).filter { $0["item"] == .text(item.rawValue) }
        var breaches: [Breach] = []
        for rule in rules {
            if let ruleCampaign = rule.campaign, ruleCampaign != campaign { continue }
            let counted = past.filter { delivery in
                if let ruleCampaign = rule.campaign, delivery["campaign"] != .text(ruleCampaign) { return false }
                if let days = rule.windowDays, let at = delivery["delivered_at"]?.integerValue {
                    return Int64(now) - at < Int64(days) * 86_400_000
                }
                return true
            }
            let total = counted.reduce(0) { $0 + Int($1["quantity"]?.integerValue ?? 1) }
            if total + quantity > rule.max { breaches.append(Breach(rule: rule, evidence: counted)) }
        }
        return breaches
    }

    static func json(_ delivery: [String: Value]) -> [String: Any] {
        var object: [String: Any] = [:]
        for (key, value) in delivery { object[key] = Printer.jsonValue(value) }
        return object
    }

    static func print(_ deliveries: [[String: Value]], evidence: Bool = false) {
        guard !deliveries.isEmpty else {
            return evidence ? Printer.note("no deliveries") : Printer.line("no deliveries")
        }
        Printer.table(
            ["WHEN", "ITEM", "QTY", "CAMPAIGN", "VOLUNTEER", "DELIVERY"],
            deliveries.map { delivery in
                [
                    Printer.date(delivery["delivered_at"]?.integerValue ?? 0), delivery["item"]?.description ?? "",
                    delivery["quantity"]?.description ?? "", delivery["campaign"]?.textValue ?? "",
                    delivery["volunteer"]?.description ?? "", delivery["id"]?.description ?? "",
                ]
            }, evidence: evidence)
    }
}

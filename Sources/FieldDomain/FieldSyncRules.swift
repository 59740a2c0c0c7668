import Foundation
public import SyncCore

/// The delivery domain's rules on records, the same at every node: a device's entry, a hub's and central's
/// receipt of a client's push (``RecordRules``). Each problem names the record's field at fault.
///
/// - deliveries: the item is in the catalogue and active; once the admin has set up campaigns, the
///   delivery names one that exists, is open on `delivered_at` and gives that item; its association (if
///   any) is one of its city.
/// - families: the association (if any) is one of the family's city; a family is not merged into itself.
/// - campaigns: `items` parses and names items of the catalogue; it ends after it starts.
/// - entitlements: the item is in the catalogue; once campaigns are set up, the campaign (if any) exists.
/// - items: the id is an item code.
/// - distinct_families: two different families.
/// - vouchers, and deliveries that hand one out: ``VoucherRules`` (decision record 0017).
/// - stock_moves: ``StockRules`` (decision record 0020).
public struct FieldSyncRules: RecordRules {
    public init() {}

    public let collections: Set<String> = [
        "deliveries", "families", "campaigns", "entitlements", "items", "distinct_families", "vouchers",
        "stock_moves",
    ]

    public func problem(with record: CheckedRecord, in store: any RecordSource) throws -> RecordProblem? {
        // Only a code's tombstone is checked (a code is never lost); any other record may be deleted.
        if record.changed == ["_deleted"], record.collection != "vouchers" { return nil }
        switch record.collection {
        case "vouchers": return try VoucherRules.voucher(record, store)
        case "stock_moves": return try StockRules.move(record, store)
        case "deliveries":
            if let problem = try VoucherRules.delivery(record, store) { return problem }
        default: break
        }
        return switch record.collection {
        case "deliveries": try delivery(record, store)
        case "families": try family(record, store)
        case "campaigns": try campaign(record, store)
        case "entitlements": try entitlement(record, store)
        case "distinct_families":
            record["family"] == record["other"]
                ? RecordProblem(field: "other", "A family is not distinct from itself.") : nil
        case "items":
            Item.isValidCode(record.id)
                ? nil
                : RecordProblem(
                    field: nil, "An item's id is its code: lowercase letters, digits, '_' or '-' (got '\(record.id)').")
        default: nil
        }
    }

    private func delivery(_ record: CheckedRecord, _ store: any RecordSource) throws -> RecordProblem? {
        guard case .text(let item) = record["item"] else { return nil }
        if let problem = try Self.itemProblem(item, field: "item", store) { return problem }
        let at = record["delivered_at"].integerValue ?? 0
        // A programme whose admin has set up no campaign yet (a replica of version 1) names them freely.
        guard try !store.records("campaigns", limit: 1).isEmpty else { return try associationProblem(record, store) }
        if case .text(let code) = record["campaign"] {
            guard let stored = try store.record("campaigns", id: code), let campaign = Campaign(code: code, stored)
            else {
                return RecordProblem(
                    field: "campaign", "There is no campaign '\(code.prefix(40))'. \(try Self.openList(at: at, store))"
                ).because("unknown-campaign", String(code.prefix(40)), Self.day(at), try Self.openCodes(at: at, store))
            }
            guard campaign.isOpen(at: at) else {
                return RecordProblem(
                    field: "campaign",
                    "Campaign '\(code)' is not open on \(Self.day(at)) (it runs \(Self.day(campaign.startsAt)) to "
                        + "\(Self.day(campaign.endsAt))). \(try Self.openList(at: at, store))"
                ).because(
                    "campaign-closed", code, Self.day(at), Self.day(campaign.startsAt), Self.day(campaign.endsAt),
                    try Self.openCodes(at: at, store))
            }
            guard campaign.items.keys.contains(item) else {
                return RecordProblem(
                    field: "item",
                    "Campaign '\(code)' does not give \(item); it gives "
                        + "\(campaign.items.keys.sorted().joined(separator: ", "))."
                ).because("campaign-lacks-item", code, item, campaign.items.keys.sorted().joined(separator: ", "))
            }
        } else {
            return RecordProblem(
                field: "campaign", "A delivery names its campaign. \(try Self.openList(at: at, store))"
            ).because("no-campaign", Self.day(at), try Self.openCodes(at: at, store))
        }
        return try associationProblem(record, store)
    }

    private func family(_ record: CheckedRecord, _ store: any RecordSource) throws -> RecordProblem? {
        if record.changed.contains("merged_into"), record["merged_into"] == .text(record.id) {
            return RecordProblem(field: "merged_into", "A family cannot be merged into itself.")
        }
        return record.changed.contains("association") ? try associationProblem(record, store) : nil
    }

    private func associationProblem(_ record: CheckedRecord, _ store: any RecordSource) throws -> RecordProblem? {
        guard case .text(let id) = record["association"] else { return nil }
        guard let association = try store.record("associations", id: id) else {
            return RecordProblem(field: "association", "There is no association '\(id.prefix(64))' here.")
                .because("unknown-association", String(id.prefix(64)))
        }
        guard association["city"] == record["city"] else {
            return RecordProblem(
                field: "association",
                "Association '\(association["name"]?.textValue ?? id)' works in \(association["city"]?.textValue ?? "?"), "
                    + "not in \(record["city"].textValue ?? "?")."
            ).because(
                "association-elsewhere", association["name"]?.textValue ?? id, association["city"]?.textValue ?? "?",
                record["city"].textValue ?? "?")
        }
        return nil
    }

    private func campaign(_ record: CheckedRecord, _ store: any RecordSource) throws -> RecordProblem? {
        guard Item.isValidCode(record.id) else {
            return RecordProblem(
                field: nil, "A campaign's id is its code: lowercase letters, digits, '_' or '-' (got '\(record.id)').")
        }
        if let starts = record["starts_at"].integerValue, let ends = record["ends_at"].integerValue, ends < starts {
            return RecordProblem(field: "ends_at", "The campaign ends (\(Self.day(ends))) before it starts.")
        }
        guard record.changed.contains("items"), case .text(let text) = record["items"] else { return nil }
        let items: [String: Int?]
        do { items = try Campaign.parseItems(text) } catch { return error }
        for code in items.keys.sorted() {
            if let problem = try Self.itemProblem(code, field: "items", store) { return problem }
        }
        return nil
    }

    private func entitlement(_ record: CheckedRecord, _ store: any RecordSource) throws -> RecordProblem? {
        if record.changed.contains("item"), case .text(let item) = record["item"],
            let problem = try Self.itemProblem(item, field: "item", store)
        {
            return problem
        }
        if record.changed.contains("campaign"), case .text(let code) = record["campaign"],
            try store.record("campaigns", id: code) == nil, try !store.records("campaigns", limit: 1).isEmpty
        {
            return RecordProblem(field: "campaign", "There is no campaign '\(code.prefix(40))'.")
        }
        return nil
    }

    /// Why `code` is not an item a record may name: not in the catalogue, or no longer handed out.
    static func itemProblem(_ code: String, field: String, _ store: any RecordSource) throws -> RecordProblem? {
        if let stored = try store.record("items", id: code) {
            return stored["active"] == .integer(0)
                ? RecordProblem(field: field, "Item '\(code)' is no longer handed out (inactive in the catalogue).")
                    .because("inactive-item", code)
                : nil
        }
        let catalogue = try store.records("items", limit: 200)
        let codes = catalogue.isEmpty ? Item.builtIn.map(\.code) : catalogue.map(\.id)
        if catalogue.isEmpty, codes.contains(code) { return nil }
        return RecordProblem(
            field: field, "'\(code.prefix(40))' is not an item of the catalogue: \(codes.joined(separator: ", "))."
        ).because("unknown-item", String(code.prefix(40)), codes.joined(separator: ", "))
    }

    /// "Open on 2026-12-06: phase-1, ramadan." or "No campaign is open on 2026-12-06."
    static func openList(at millis: Int64, _ store: any RecordSource) throws -> String {
        let open = try Catalogue(store).openCampaigns(at: millis).map(\.code)
        return open.isEmpty
            ? "No campaign is open on \(day(millis))."
            : "Open on \(day(millis)): \(open.joined(separator: ", "))."
    }

    /// The codes of the campaigns open at `millis`, comma-separated ("" when none is).
    static func openCodes(at millis: Int64, _ store: any RecordSource) throws -> String {
        try Catalogue(store).openCampaigns(at: millis).map(\.code).joined(separator: ", ")
    }

    /// The UTC day of a Unix-ms time, as `YYYY-MM-DD`.
    public static func day(_ millis: Int64) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
    }
}

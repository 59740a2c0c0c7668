import Foundation
public import SyncCore

/// The rules on recharge codes (decision record 0017), checked by ``FieldSyncRules`` at every node on
/// what it writes and on what its clients push: a hand-out by the code's holder only, once; a code handed
/// on by its holder or the admin only, along the allowed moves; a code handed out never moves again.
enum VoucherRules {
    /// Why a delivery that names (or should name) a code cannot be stored; nil when it can.
    static func delivery(_ record: CheckedRecord, _ store: any RecordSource) throws -> RecordProblem? {
        guard case .text(let code) = record["voucher"] else {
            if record.id.hasPrefix(Vouchers.deliveryPrefix) {
                return RecordProblem(
                    field: "voucher", "A delivery id starting 'rc-' is kept for the hand-out of a recharge code.")
            }
            // Once the admin has imported codes, a recharge hands one out (a programme without codes keeps
            // counting recharges).
            if record["item"] == .text(Vouchers.item), try !store.records("vouchers", limit: 1).isEmpty {
                return RecordProblem(
                    field: "voucher", "An internet recharge hands out a recharge code this device holds."
                ).because("recharge-needs-code")
            }
            return nil
        }
        guard record["item"] == .text(Vouchers.item) else {
            return RecordProblem(field: "voucher", "Only an internet recharge hands out a recharge code.")
        }
        guard record.id == Vouchers.deliveryID(for: code) else {
            return RecordProblem(
                field: "voucher",
                "The hand-out of code \(code.prefix(64)) has the id 'rc-\(code.prefix(64))' (one per code).")
        }
        guard record["quantity"] == .integer(1) else {
            return RecordProblem(field: "quantity", "A recharge code is handed out one at a time (quantity 1).")
        }
        if let existing = try store.record("deliveries", id: record.id) {
            // The same hand-out again (a push sent twice, a pending write under a device's new id) is no
            // second one; another family, time or volunteer is.
            let same = ["family", "delivered_at", "volunteer", "city"].allSatisfy { existing[$0] == record[$0] }
            return same
                ? nil
                : RecordProblem(field: "voucher", "Code \(code) was already handed out: \(handOut(existing)).")
                    .because("code-handed-out", code)
        }
        guard let stored = try store.record("vouchers", id: code) else {
            return RecordProblem(field: "voucher", "There is no recharge code \(code.prefix(64)) here.")
                .because("unknown-code", String(code.prefix(64)))
        }
        let voucher = Vouchers.Voucher(code: code, stored)
        // The admin honouring a hand-out on central's own file (`field admin refused accept`).
        if record.writer?.standing == .local, voucher.holder == .central { return nil }
        guard voucher.city == record["city"].textValue else {
            return RecordProblem(
                field: "voucher",
                "Code \(code) is held in \(voucher.city ?? "central's pool"), not in \(record["city"]).")
        }
        guard let writer = record.writer else { return nil }
        if voucher.holder == .device(writer.node) { return nil }
        // Relayed by a hub that checked it against its devices' custody (which central sees only as its
        // feed left it: moves collapsed, a batch's hand-out before the allotment it carries): here, the code
        // must still be with the city, not back with central or taken back by the admin.
        if writer.standing == .relayed, voucher.holder == .hub || voucher.holder.map(Self.isDevice) == true {
            return nil
        }
        var detail = "Code \(code) is held by \(voucher.holder?.description ?? "nobody"), not by node \(writer.node)"
        if let from = voucher.reclaimedFrom { detail += "; the admin took it back from \(from)" }
        return RecordProblem(field: "voucher", detail + ". A device hands out only the codes it holds.")
            .because("code-not-held", code)
    }

    /// Why a change of a code (its holder, its city, a tombstone, a new code) cannot be stored.
    static func voucher(_ record: CheckedRecord, _ store: any RecordSource) throws -> RecordProblem? {
        let admin = record.writer.map { $0.standing == .local || $0.standing == .client(.admin) } ?? true
        guard let storedValues = try store.record("vouchers", id: record.id) else {
            guard admin else { return RecordProblem(field: "holder", "Only the admin adds recharge codes.") }
            guard Vouchers.isValidCode(record.id) else {
                return RecordProblem(field: nil, "'\(record.id.prefix(70))' is not a recharge code.")
            }
            return Vouchers.Holder(record["holder"]) == nil
                ? RecordProblem(field: "holder", "A code's holder is central, hub or a device's node id.") : nil
        }
        let moving = record.changed.intersection(["holder", "city", "reclaimed_from", "_deleted"])
        if !moving.isEmpty, let delivery = try store.record("deliveries", id: Vouchers.deliveryID(for: record.id)),
            !Self.isAllotmentBefore(record)
        {
            return RecordProblem(
                field: "holder", "Code \(record.id) was handed out (\(handOut(delivery))): it never moves again.")
        }
        let from = Vouchers.Holder(storedValues["holder"] ?? .null)
        let to = Vouchers.Holder(record["holder"])
        // A device gives back only what its node id holds, even on its own file (a restored copy's old id).
        if record.writer?.standing == .local, case .device(let holder)? = from, to == .hub,
            holder != record.writer?.node
        {
            return RecordProblem(field: "holder", "Code \(record.id) is held by \(from!), not by this device.")
        }
        if admin { return nil }
        guard let writer = record.writer, !record.changed.contains("_deleted") else {
            return RecordProblem(field: "holder", "Only the admin deletes a recharge code.")
        }
        guard record.changed.isSubset(of: ["holder"]) else {
            return RecordProblem(field: "holder", "Only the admin changes a code's city, operator or amount.")
        }
        // The same move again (a pending write both copies of a restored phone held, under its new id):
        // it changes no custody.
        if to == from { return nil }
        // A hub's own moves and the moves it relays were checked by the hub against its devices' custody;
        // here the code must still be with the city (a hub or device holder), as the feed left it.
        let withCity = from == .hub || from.map(Self.isDevice) == true
        let allowed: Bool
        switch (writer.standing, to) {
        case (.client(.hub), .device?), (.client(.hub), .central?): allowed = withCity
        case (.relayed, .hub?): allowed = withCity
        case (_, .hub?): allowed = from == .device(writer.node)
        default: allowed = false
        }
        guard allowed else {
            return RecordProblem(
                field: "holder",
                "Code \(record.id) is held by \(from?.description ?? "nobody"): node \(writer.node) cannot hand it "
                    + "to \(to?.description ?? "that holder"). Only its holder (a hub to its devices or back to "
                    + "central, a device back to its hub) or the admin hands a code on.")
        }
        return nil
    }

    /// A hub's allotment to a device, pushed with (and in a batch after) the hand-out it made possible: at
    /// the hub the allotment came first (a hub cannot move a code it knows handed out), so the device was
    /// the holder that handed it out.
    static func isAllotmentBefore(_ record: CheckedRecord) -> Bool {
        guard record.writer?.standing == .client(.hub), record.changed == ["holder"] else { return false }
        return Vouchers.Holder(record["holder"]).map(isDevice) == true
    }

    static func isDevice(_ holder: Vouchers.Holder) -> Bool {
        if case .device = holder { return true }
        return false
    }

    /// "to family F on 2026-12-06 by Amina (delivery rc-…)".
    static func handOut(_ delivery: [String: Value]) -> String {
        let at = delivery["delivered_at"]?.integerValue.map(FieldSyncRules.day) ?? "?"
        return
            "to family \(delivery["family"]?.textValue ?? "?") on \(at) by \(delivery["volunteer"]?.textValue ?? "?")"
    }
}

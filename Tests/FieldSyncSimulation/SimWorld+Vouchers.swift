import FieldDomain
import Foundation
import GRDB
import SyncCore

/// The work on recharge codes (``SimVoucherEvent``) and what a healed voucher run must show.
extension SimWorld {
    /// Central's pool: the codes the admin imports when the run starts.
    func importVouchers() throws {
        guard let admin = central.replicaForAdmin() else { return }
        try admin.write { tx in
            for code in SimVoucherLog.codes { try tx.importVoucher(code, operatorName: "op", amount: 10) }
            // The admin's first allotment: a few codes to each city's hub.
            for (index, code) in SimVoucherLog.codes.prefix(8).enumerated() {
                try tx.moveVoucher(code, to: .hub, city: SimScenario.cities[index % 2])
            }
        }
        // The day before: the hubs sync, give each of their devices two codes, the devices sync.
        for hub in 1...2 { try sync(hub) }
        for device in 3..<scenario.nodeCount { try run(SimVoucherEvent.hubAllot(device: device, count: 2)) }
        for device in 3..<scenario.nodeCount { try sync(device) }
    }

    func run(_ event: SimVoucherEvent) throws {
        do {
            switch event {
            case .allot(let hub, let count):
                guard let admin = central.replicaForAdmin(), let city = scenario.city(hub) else { return }
                let pool = try Vouchers.unused(admin.records, holder: .central, city: nil).filter { $0.city == nil }
                try admin.write { tx in
                    for voucher in pool.prefix(count) { try tx.moveVoucher(voucher.code, to: .hub, city: city) }
                }
            case .hubAllot(let device, let count):
                let hub = replica(server(of: device))
                let codes = try Vouchers.unused(hub.records, holder: .hub, city: scenario.city(device))
                let target = replica(device).nodeID
                try hub.write { tx in
                    for voucher in codes.prefix(count) { try tx.moveVoucher(voucher.code, to: .device(target)) }
                }
            case .handOut(let device, let pick): try handOut(device, pick: pick)
            case .deviceReturn(let device, let count):
                let phone = replica(device)
                let codes = try Vouchers.unused(phone.records, holder: .device(phone.nodeID), city: nil)
                try phone.write { tx in
                    for voucher in codes.prefix(count) { try tx.moveVoucher(voucher.code, to: .hub) }
                }
            case .hubReturn(let hub, let count):
                let replica = replica(hub)
                let codes = try Vouchers.unused(replica.records, holder: .hub, city: scenario.city(hub))
                try replica.write { tx in
                    for voucher in codes.prefix(count) { try tx.moveVoucher(voucher.code, to: .central) }
                }
            case .backup(let device):
                try replica(device).checkpoint()
                let backup = path(device) + ".backup"
                try? FileManager.default.removeItem(atPath: backup)
                try FileManager.default.copyItem(atPath: path(device), toPath: backup)
            case .restoreBackup(let device):
                let backup = path(device) + ".backup"
                guard FileManager.default.fileExists(atPath: backup) else { return }
                try restore(device, from: device, backup: backup)
            case .reclaim(let device):
                guard let admin = central.replicaForAdmin() else { return }
                let held = try Vouchers.all(admin.records).filter { voucher in
                    guard case .device(let node)? = voucher.holder else { return false }
                    return lineage[device].contains(node)
                }
                for voucher in held {
                    // One write each: a code handed out here already is refused, the others taken back.
                    do {
                        try admin.write { tx in try tx.reclaimVoucher(voucher.code, from: voucher.holder!) }
                        vouchers.reclaimed.insert(voucher.code)
                    } catch is SyncError {}
                }
            }
        } catch let error as SyncError where error.code == .invalidValue || error.code == .notFound {
            // A rule this node applies to its own write refused it (nothing was written).
        }
    }

    private func handOut(_ device: Int, pick: Int) throws {
        let phone = replica(device)
        guard let code = try Vouchers.unused(phone.records, holder: .device(phone.nodeID), city: nil).first?.code
        else { return }
        let city = scenario.city(device)!
        var families = try phone.read { db in
            try String.fetchAll(db, sql: "SELECT id FROM families WHERE _deleted IS NULL ORDER BY id")
        }
        if families.isEmpty {
            // The volunteer registers the family first.
            families.append(
                try phone.write { tx in
                    try tx.addFamily(NewFamily(city: city, reference: "V\(pick)", headName: "Family #\(pick)"))
                })
        }
        let family = families[pick % families.count]
        try phone.write { tx in
            try tx.handOutVoucher(
                code,
                delivery: NewDelivery(
                    city: city, family: family, item: Vouchers.item, campaign: "c1",
                    deliveredAt: clocks[device].nowMillis(), volunteer: "n\(device)"))
        }
        vouchers.handOuts.append(
            SimHandOut(
                node: device, epoch: epochs[device], code: code, family: family,
                sequence: try phone.headCursor().position))
    }

    /// The admin reclaims every unused code held at central by a node id that no node has now; returns
    /// whether there was one.
    func reclaimFrozen() throws -> Bool {
        guard let admin = central.replicaForAdmin() else { return false }
        let current = Set((1..<scenario.nodeCount).map { replica($0).nodeID })
        var any = false
        for voucher in try Vouchers.all(admin.records) {
            guard case .device(let node)? = voucher.holder, !current.contains(node) else { continue }
            do {
                try admin.write { tx in try tx.reclaimVoucher(voucher.code, from: voucher.holder!) }
                vouchers.reclaimed.insert(voucher.code)
                any = true
            } catch is SyncError {}  // handed out: it stays
        }
        return any
    }

    /// Device `node` is replaced by a copy of `source`: its hand-outs never acknowledged went with the old
    /// phone (no one can know of them); both now share a node id.
    func vouchersRestored(_ node: Int, from source: Int, acknowledged: Int64) {
        vouchers.handOuts.removeAll { $0.node == node && $0.epoch == epochs[node] && $0.sequence > acknowledged }
        vouchers.duplicated.formUnion([node, source])
    }

    /// No code reached two families (at any replica, live hand-outs of one code name one family); every
    /// hand-out a volunteer made is at central or was refused, kept aside and explained (a duplicated
    /// device, or a code the admin took back); every code is at central, handed out or held by someone.
    func voucherViolations() throws -> [String] {
        guard let admin = central.replicaForAdmin() else { return [] }
        var found: [String] = []
        var families: [String: Set<String>] = [:]
        for replica in [admin] + (1..<scenario.nodeCount).map(replica) {
            for delivery in try replica.records.records("deliveries", limit: 100_000) {
                guard let code = delivery.values["voucher"]?.textValue else { continue }
                families[code, default: []].insert(delivery.values["family"]?.textValue ?? "?")
            }
        }
        for (code, reached) in families where reached.count > 1 {
            found.append("double hand-out: code \(code) reached families \(reached.sorted())")
        }
        var refused: Set<String> = []
        for replica in [admin] + (1..<scenario.nodeCount).map(replica) {
            for entry in try replica.refusedRecords(status: nil) where entry.refusal.collection == "deliveries" {
                refused.insert(entry.refusal.id)
            }
        }
        for handOut in vouchers.handOuts {
            let id = Vouchers.deliveryID(for: handOut.code)
            if try admin.record("deliveries", id: id)?["family"] == .text(handOut.family) { continue }
            vouchers.refusedHandOuts += 1
            guard refused.contains(id) else {
                found.append(
                    "lost hand-out: n\(handOut.node) gave \(handOut.code) to \(handOut.family), neither kept nor refused"
                )
                continue
            }
            if !vouchers.duplicated.contains(handOut.node), !vouchers.reclaimed.contains(handOut.code) {
                found.append(
                    "unexplained refusal: n\(handOut.node) (never restored) gave \(handOut.code) to \(handOut.family) "
                        + "and it was refused: a code it held reached another family first")
            }
        }
        // Every hand-out central keeps was made by the code's holder (under one of its node ids).
        let records = try centralRecords()
        for (id, _) in records.cities("deliveries") {
            guard let delivery = records.record("deliveries", id: id), let code = delivery.values["voucher"]?.textValue,
                let writer = delivery.stamps["voucher"]?.node,
                case .device(let holder)? = try admin.record("vouchers", id: code).flatMap({
                    Vouchers.Holder($0["holder"] ?? .null)
                })
            else { continue }
            if !lineage.contains(where: { $0.contains(writer) && $0.contains(holder) }) {
                found.append("hand-out by a non-holder: \(code) handed out by \(writer), held by \(holder)")
            }
        }
        // One holder at a time: a device that believes it holds an unused code is its holder at central.
        for node in 3..<scenario.nodeCount {
            let phone = replica(node)
            for voucher in try Vouchers.unused(phone.records, holder: .device(phone.nodeID), city: nil) {
                let atCentral = try admin.record("vouchers", id: voucher.code)
                let handed = try admin.record("deliveries", id: Vouchers.deliveryID(for: voucher.code)) != nil
                if handed || atCentral?["holder"] != .text(phone.nodeID.description) {
                    found.append(
                        "two holders: n\(node) holds \(voucher.code), central says \(atCentral?["holder"] ?? .null)"
                            + (handed ? " (handed out)" : ""))
                }
            }
        }
        for code in SimVoucherLog.codes {
            guard let voucher = try admin.record("vouchers", id: code), voucher["_deleted"] != .integer(1) else {
                found.append("lost code: \(code) is not at central")
                continue
            }
            if Vouchers.Holder(voucher["holder"] ?? .null) == nil {
                found.append("lost code: \(code) has no holder at central (\(voucher["holder"] ?? .null))")
            }
        }
        return found
    }
}

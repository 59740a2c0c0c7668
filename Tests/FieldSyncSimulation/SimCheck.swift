import SyncCore

/// The properties a healed simulated run must have; each violation is one line.
package enum SimCheck {
    /// Replicas of a city identical (central's restricted to the city), node ids all distinct, every
    /// acknowledged write current or kept under a greater stamp, every fact everywhere, files sound.
    package static func violations(_ world: SimWorld) throws -> [String] {
        var found: [String] = []
        let scenario = world.scenario
        let nodes = 0..<scenario.nodeCount
        let central = try world.central.dump().split(separator: "\n").map(String.init)
        for (index, city) in SimScenario.cities.enumerated() {
            let marker = " city=t\"\(city)\""
            let expected = central.filter { $0.contains(marker) }
            let members = [index + 1] + nodes.filter { $0 >= 3 && scenario.city($0) == city }
            for node in members {
                // A code whose move this node made (a restored copy's stale move) and its server refused: the
                // node may keep its refused value until a newer write replaces it (decision record 0017,
                // "known gap"); it never hands out a code its id does not hold.
                let kept = Set(
                    try world.replica(node).refusedRecords(status: nil)
                        .filter { $0.refusal.collection == "vouchers" }
                        .map { "vouchers t\"\($0.refusal.id)\" " })
                // A device's view of the codes may lag (a refused or repaired stale move, decision record 0017,
                // "known gap"): SimWorld.voucherViolations checks what matters, that no device believes it
                // holds a code central gives to another holder.
                let device = node >= 3 && world.scenario.vouchers
                func visible(_ line: String) -> Bool {
                    !(device && line.hasPrefix("vouchers ")) && !kept.contains { line.hasPrefix($0) }
                }
                let lines = try world.replica(node).dump().split(separator: "\n").map(String.init).filter(visible)
                let expected = expected.filter(visible)
                guard lines != expected else { continue }
                let missing = Set(expected).subtracting(lines).sorted().prefix(2)
                let extra = Set(lines).subtracting(expected).sorted().prefix(2)
                found.append(
                    "diverged: n\(node) (\(city)) differs from central: missing \(Array(missing)), extra \(Array(extra))"
                )
            }
        }
        let ids = nodes.map { world.nodeID($0) }
        if Set(ids).count != ids.count {
            found.append("duplicate node ids remain after healing: \(ids.map(\.description))")
        }
        found += world.earlyViolations
        let records = try world.centralRecords()
        let refused = try refusedKeys(world)
        found += try attackViolations(world, records: records, refused: refused)
        let refusedIDs = Set(refused.map { String($0.drop { $0 != "/" }.dropFirst()) })
        for write in world.writes {
            if let problem = try check(write, in: world, records: records, refusedIDs: refusedIDs) {
                found.append("lost write: \(problem)")
            }
        }
        for node in nodes {
            let result = try node == 0 ? world.central.integrityCheck() : world.replica(node).integrityCheck()
            if result != "ok" { found.append("n\(node) integrity: \(result)") }
        }
        return found
    }

    /// Every record an attack sent was refused and kept aside where it was refused (or, refused whole, is
    /// nowhere); no record of one city at central carries a stamp of another city's participant; no
    /// relayed status was forged.
    private static func attackViolations(
        _ world: SimWorld, records: SimRecords, refused: Set<String>
    ) throws -> [String] {
        var found: [String] = []
        let nodes = 0..<world.scenario.nodeCount
        for record in world.attacks {
            if let target = record.target, world.moved.contains(target) { continue }
            let key = record.collection + "/" + record.id
            if record.keptAside {
                if !refused.contains(key) {
                    found.append("unrefused attack: \(record.attack) sent \(key), kept nowhere")
                }
            } else {
                for node in nodes
                where try node == 0
                    ? records.record(record.collection, id: record.id) != nil
                    : world.replica(node).record(record.collection, id: record.id) != nil
                {
                    found.append("forged write: \(record.attack) left \(key) live at n\(node)")
                }
            }
        }
        // Whose city each writer is.
        var cityOf: [NodeID: String] = [
            SimAttack.deviceNode: SimScenario.cities[0], SimAttack.hubNode: SimScenario.cities[1],
        ]
        for node in 1..<world.scenario.nodeCount {
            for id in world.lineage[node] { cityOf[id] = world.scenario.city(node) }
        }
        for collection in ["families", "deliveries", "delivery_voids"] {
            for (id, city) in records.cities(collection) where !world.moved.contains(id) {
                for (field, stamp) in records.record(collection, id: id)?.stamps ?? [:] {
                    guard let writer = cityOf[stamp.node], writer != city else { continue }
                    found.append(
                        "cross-city write: \(collection)/\(id) of \(city ?? "no city") has \(field) by a \(writer) node"
                    )
                }
            }
        }
        let forged = try world.central.statuses(named: "forged")
        if forged > 0 { found.append("forged status: \(forged) relayed statuses of another city's devices kept") }
        return found
    }

    /// `collection/id` of every record refused and kept aside, at any node.
    private static func refusedKeys(_ world: SimWorld) throws -> Set<String> {
        var refused = try world.central.refusedKeys()
        for node in 1..<world.scenario.nodeCount {
            for entry in try world.replica(node).refusedRecords(status: nil) {
                refused.insert(entry.refusal.collection + "/" + entry.refusal.id)
            }
        }
        return refused
    }

    private static func check(
        _ write: SimTrackedWrite, in world: SimWorld, records: SimRecords, refusedIDs: Set<String>
    ) throws -> String? {
        let label = "n\(write.node) \(write.collection)/\(write.id) \(write.field)=\(write.value)"
        // Refused (a family that moved away, a delivery to it): kept aside where it was refused, not lost.
        if refusedIDs.contains(write.id) { return nil }
        if write.field == "*" {
            return records.record(write.collection, id: write.id) == nil ? "\(label) missing at central" : nil
        }
        // Where the write was made (its own overwritten writes are kept there); central for a phone that
        // a restored backup replaced, which took its history with it.
        // A family the admin moved to the other city left the writer's replica: central holds it.
        let atCentral = write.wiped || write.epoch != world.epochs[write.node] || world.moved.contains(write.id)
        let values: [String: Value]?
        let stamps: [String: Stamp]
        if atCentral {
            let record = records.record(write.collection, id: write.id)
            (values, stamps) = (record?.values, record?.stamps ?? [:])
        } else {
            let here = world.replica(write.node)
            (values, stamps) = (
                try here.record(write.collection, id: write.id), try here.stamps(write.collection, id: write.id)
            )
        }
        guard let values else { return "\(label) record missing" }
        if write.field == "_deleted" {
            return values["_deleted"]?.isNull ?? true ? "\(label): the record is not deleted" : nil
        }
        if values[write.field] == write.value { return nil }
        // Kept where the conflict was seen: here, or for a replaced phone on any replica (its hub saw it,
        // central may only have received the winner).
        let keepers = atCentral ? Array(0..<world.scenario.nodeCount) : [write.node]
        for keeper in keepers {
            let history =
                try keeper == 0
                ? world.central.history(collection: write.collection, recordID: write.id)
                : world.replica(keeper).history(collection: write.collection, recordID: write.id)
            let kept = history.contains { $0.field == write.field && $0.value == write.value && $0.winner > $0.stamp }
            if kept { return nil }
        }
        return "\(label): now \(values[write.field] ?? .null) at \(stamps[write.field].map(\.description) ?? "?")"
    }
}

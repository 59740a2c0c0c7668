import FieldDomain
import GRDB
import SyncCore

/// What a dishonest participant sends (DESIGN.md §8): a device of the first city that talks to its hub, and
/// a hub of the second city that talks to central, each with a valid token and a node id of its own.
/// `pick` chooses among the records the target server holds (modulo their count).
package enum SimAttack: Hashable, Sendable, CustomStringConvertible {
    /// A "new" family under the id of another city's family, with the attacker's city.
    case foreignFamily(pick: Int)
    /// A delivery to another city's family.
    case crossDelivery(pick: Int)
    /// A void of another city's delivery.
    case crossVoid(pick: Int)
    /// Its own city's family merged into another city's.
    case crossMerge(pick: Int, into: Int)
    /// A delivery with a value the schema refuses: 0: quantity -1, 1: quantity Int64.max, 2: an unknown item,
    /// 3: a family without its reference.
    case badValue(kind: Int)
    /// A record stamped by an honest device's node (a forged origin).
    case forgedOrigin(pick: Int)
    /// A pull whose cursor is Int64.max, and a heartbeat whose clock correction is Int64.min.
    case extremeNumbers
    /// The hub relays a status for a device of the other city.
    case foreignStatus(pick: Int)

    package var description: String {
        switch self {
        case .foreignFamily(let pick): "attack: new family under another city's id [\(pick)]"
        case .crossDelivery(let pick): "attack: delivery to another city's family [\(pick)]"
        case .crossVoid(let pick): "attack: void of another city's delivery [\(pick)]"
        case .crossMerge(let pick, let into): "attack: merge family [\(pick)] into another city's [\(into)]"
        case .badValue(let kind): "attack: bad value #\(kind)"
        case .forgedOrigin(let pick): "attack: record stamped by honest node [\(pick)]"
        case .extremeNumbers: "attack: extreme cursor and clock correction"
        case .foreignStatus(let pick): "attack: relayed status of another city's device [\(pick)]"
        }
    }

    static let deviceNode = NodeID(rawValue: 666_000_001)!
    static let hubNode = NodeID(rawValue: 666_000_002)!

    static func random(using random: inout SplitMix64) -> SimAttack {
        let pick = Int.random(in: 0..<1000, using: &random)
        switch Int.random(in: 0..<8, using: &random) {
        case 0: return .foreignFamily(pick: pick)
        case 1: return .crossDelivery(pick: pick)
        case 2: return .crossVoid(pick: pick)
        case 3: return .crossMerge(pick: pick, into: Int.random(in: 0..<1000, using: &random))
        case 4: return .badValue(kind: Int.random(in: 0..<4, using: &random))
        case 5: return .forgedOrigin(pick: pick)
        case 6: return .extremeNumbers
        default: return .foreignStatus(pick: pick)
        }
    }
}

/// What an attack left to check at the end: a record id that must be refused somewhere (kept in a
/// `_refused` table) and never live in the attacker's city, or absent everywhere (refused whole).
struct SimAttackRecord {
    var collection: String
    var id: String
    /// Refused record by record (kept aside), rather than whole (nothing kept).
    var keptAside: Bool
    var attack: SimAttack
    /// The other city's record it names, if any (an admin's move may bring it into the attacker's city,
    /// which makes the reference lawful).
    var target: String? = nil
}

extension SimWorld {
    /// Ids of `collection` at `node` in `city` (or in any other city than `city` when `other`).
    func ids(_ collection: String, at node: Int, city: String, other: Bool) throws -> [String] {
        if node == 0 {
            return try centralRecords().cities(collection).filter {
                guard let recordCity = $0.city else { return false }  // SQL: a NULL city matches neither
                return other ? recordCity != city : recordCity == city
            }.map(\.id)
        }
        return try replica(node).read { db in
            try String.fetchAll(
                db,
                sql: "SELECT id FROM \(collection) WHERE \(other ? "city != ?" : "city = ?") ORDER BY id",
                arguments: [city])
        }
    }

    /// Sends one request through the real encoding to `server`'s service as `principal`; a refusal of the
    /// whole request is an answer too (nil), never a crash.
    func send(_ body: [UInt8], to server: Int, as principal: Principal) -> SyncResponse? {
        let now = Int64(clocks[server].nowMillis())
        guard let request = try? SyncRequest(decoding: body) else { return nil }
        guard let service = try? service(of: server) else { return nil }
        guard let bytes = try? service.handleWaiting(request, principal: principal, now: now).encoded() else {
            return nil
        }
        return try? SyncResponse(decoding: bytes)
    }

    /// A push of one record by `node` (its token's node: the identity check of the HTTP layer passed),
    /// stamped by `stampedBy` (default: `node` itself).
    func push(
        _ collection: String, id: String, _ values: [(String, Value)], node: NodeID, stampedBy: NodeID? = nil,
        to server: Int, as principal: Principal
    ) -> SyncResponse? {
        let now = clocks[server].nowMillis()
        let batch = ChangeBatch([
            CollectionChanges(
                name: collection, fields: values.map(\.0),
                records: [
                    RecordChange(
                        id: id, stamp: Stamp(hlc: HLCTimestamp(millis: now, counter: 0), node: stampedBy ?? node),
                        cells: values.enumerated().map { Cell(field: $0, value: $1.1) })
                ])
        ])
        let request = SyncRequest(node: node, clockMillis: Int64(now), push: .init(batch: batch, to: FeedCursor(1)))
        return send(request.encoded(), to: server, as: principal)
    }
}

extension SimWorld {
    /// The dishonest device (first city, talks to hub 1) and hub (second city, talks to central).
    var malloryDevice: Principal { Principal(role: .device, city: SimScenario.cities[0], name: "mallory") }
    var rogueHub: Principal { Principal(role: .hub, city: SimScenario.cities[1], name: "rogue-hub") }

    func attack(_ attack: SimAttack) throws {
        let (home, other) = (SimScenario.cities[0], SimScenario.cities[1])
        let device = SimAttack.deviceNode
        let tag = attacks.count
        func expect(_ collection: String, _ id: String, keptAside: Bool = true, target: String? = nil) {
            attacks.append(
                SimAttackRecord(collection: collection, id: id, keptAside: keptAside, attack: attack, target: target))
        }
        func delivery(_ id: String, family: String, city: String = home) -> [(String, Value)] {
            [
                ("city", .text(city)), ("family", .text(family)), ("item", "food_pack"), ("quantity", 1),
                ("delivered_at", .integer(Int64(clocks[0].nowMillis()))), ("volunteer", "mallory"),
            ]
        }
        switch attack {
        case .foreignFamily(let pick):
            // Through the hub, which does not know the id: central refuses it when the hub syncs.
            let foreign = try ids("families", at: 0, city: home, other: true)
            guard !foreign.isEmpty else { return }
            let id = foreign[pick % foreign.count]
            _ = push(
                "families", id: id, [("city", .text(home)), ("reference", "X"), ("head_name", "Taken")],
                node: device, to: 1, as: malloryDevice)
            attacks.append(SimAttackRecord(collection: "families", id: id, keptAside: true, attack: attack, target: id))
        case .crossDelivery(let pick):
            let foreign = try ids("families", at: 0, city: home, other: true)
            guard !foreign.isEmpty else { return }
            let id = "mallory-delivery-\(tag)"
            let family = foreign[pick % foreign.count]
            _ = push("deliveries", id: id, delivery(id, family: family), node: device, to: 1, as: malloryDevice)
            expect("deliveries", id, target: family)
        case .crossVoid(let pick):
            let foreign = try ids("deliveries", at: 0, city: home, other: true)
            guard !foreign.isEmpty else { return }
            let id = "mallory-void-\(tag)"
            let target = foreign[pick % foreign.count]
            _ = push(
                "delivery_voids", id: id,
                [
                    ("city", .text(home)), ("delivery", .text(target)), ("reason", "x"),
                    ("volunteer", "mallory"), ("voided_at", .integer(Int64(clocks[0].nowMillis()))),
                ], node: device, to: 1, as: malloryDevice)
            expect("delivery_voids", id, target: target)
        case .crossMerge(let pick, let into):
            // The rogue hub, straight at central: its own city's family into another city's.
            let own = try ids("families", at: 0, city: other, other: false)
            let foreign = try ids("families", at: 0, city: other, other: true)
            guard !own.isEmpty, !foreign.isEmpty else { return }
            let id = own[pick % own.count]
            let target = foreign[into % foreign.count]
            _ = push(
                "families", id: id, [("merged_into", .text(target))], node: SimAttack.hubNode, to: 0, as: rogueHub)
            expect("families", id, target: target)
        case .badValue(let kind):
            let families = try ids("families", at: 1, city: home, other: false)
            let id = "mallory-bad-\(tag)"
            if kind == 3 {
                _ = push(
                    "families", id: id, [("city", .text(home)), ("head_name", "H")], node: device, to: 1,
                    as: malloryDevice)
                return expect("families", id)
            }
            var values = delivery(id, family: families.first ?? "none")
            switch kind {
            case 0: values[3].1 = -1
            case 1: values[3].1 = .integer(.max)
            default: values[2].1 = "tent"
            }
            _ = push("deliveries", id: id, values, node: device, to: 1, as: malloryDevice)
            expect("deliveries", id)
        case .forgedOrigin(let pick):
            let honest = (3..<scenario.nodeCount).filter { scenario.city($0) == home }
            guard !honest.isEmpty else { return }
            let victim = replica(honest[pick % honest.count]).nodeID
            let id = "mallory-forged-\(tag)"
            _ = push(
                "families", id: id, [("city", .text(home)), ("reference", "F"), ("head_name", "F")], node: device,
                stampedBy: victim, to: 1, as: malloryDevice)
            expect("families", id, keptAside: false)
        case .extremeNumbers:
            let now = clocks[1].nowMillis()
            for body in [
                "{\"v\":1,\"node\":\"\(device)\",\"clock\":\(now),\"pull\":{\"cursor\":\"9223372036854775807\"}}",
                "{\"v\":1,\"node\":\"\(device)\",\"clock\":\(now),\"heartbeat\":{\"app\":\"x\",\"clock_correction_ms\":-9223372036854775808}}",
            ] {
                _ = send(Array(body.utf8), to: 1, as: malloryDevice)
            }
        case .foreignStatus(let pick):
            let victims = (3..<scenario.nodeCount).filter { scenario.city($0) == home }
            guard !victims.isEmpty else { return }
            let victim = replica(victims[pick % victims.count]).nodeID
            var request = SyncRequest(node: SimAttack.hubNode, clockMillis: Int64(clocks[0].nowMillis()))
            request.relayed = [
                DeviceStatus(
                    node: victim, name: "forged", role: "device", city: home, heartbeat: Heartbeat(app: "forged"),
                    clockOffsetMillis: 0, lastSeenMillis: Int64(clocks[0].nowMillis()))
            ]
            _ = send(request.encoded(), to: 0, as: rogueHub)
        }
    }

    /// The admin moves one of central's families to the other city.
    func move(_ pick: Int) throws {
        let families = try centralRecords().cities("families", live: true)
        guard !families.isEmpty else { return }
        let (id, city) = families[pick % families.count]
        let target = city == SimScenario.cities[0] ? SimScenario.cities[1] : SimScenario.cities[0]
        try central.moveFamily(id, to: target, now: clocks[0].nowMillis())
        moved.insert(id)
    }
}

public import GRDB
public import SyncCore

/// Families merged into others, resolved to the family each counts as (its group's root).
public struct FamilyGroups: Sendable {
    /// A family's `merged_into`, for the families that have one.
    private let parent: [String: String]
    private let children: [String: [String]]

    /// A chain of merges longer than this is cut (a hostile or broken chain cannot loop the report).
    static let maxDepth = 32

    public init(mergedInto: [String: String]) {
        parent = mergedInto
        children = Dictionary(grouping: mergedInto.keys) { mergedInto[$0]! }
    }

    /// The family `id` counts as: the end of its chain of merges (in a cycle, its smallest id).
    public func root(_ id: String) -> String {
        var current = id
        var seen: [String] = [id]
        while let next = parent[current] {
            if seen.contains(next) { return seen.drop { $0 != next }.min()! }
            guard seen.count < Self.maxDepth else { return current }
            seen.append(next)
            current = next
        }
        return current
    }

    /// Every family that counts as `root`, `root` included.
    public func members(of root: String) -> Set<String> {
        var members: Set<String> = [root]
        var queue = [root]
        while let id = queue.popLast() {
            for child in children[id] ?? [] where self.root(child) == root && members.insert(child).inserted {
                queue.append(child)
            }
        }
        return members
    }
}

/// A delivery as the ledger reads it (values came from clients: a missing one reads as "?" or 0).
public struct LedgerDelivery: Sendable, Hashable {
    public var id: String
    public var city: String
    /// The family it was logged for.
    public var family: String
    public var item: String
    public var quantity: Int
    public var campaign: String?
    public var deliveredAt: Int64
    public var volunteer: String
    /// The node that logged it.
    public var node: NodeID?
    public var note: String?
    public var association: String?
    /// Its stamp: deliveries a node knew when it logged one are all stamped before it.
    public var stamp: Stamp?

    public var counted: CountedDelivery {
        CountedDelivery(id: id, item: item, quantity: quantity, campaign: campaign, deliveredAt: deliveredAt)
    }
}

extension LedgerDelivery {
    /// A delivery about to be logged, under a provisional `id` (no stamp yet: it counts after every stored one).
    public init(pending delivery: NewDelivery, id: String) {
        self.id = id
        city = delivery.city
        family = delivery.family
        item = delivery.item
        quantity = delivery.quantity
        campaign = delivery.campaign
        deliveredAt = Int64(clamping: delivery.deliveredAt)
        volunteer = delivery.volunteer
        note = delivery.note
        association = delivery.association
    }
}

/// The deliveries a replica holds, read for the rules and the report (the domain's queries).
public struct DeliveryLedger {
    public let replica: Replica

    public init(_ replica: Replica) {
        self.replica = replica
    }

    public func familyGroups() throws -> FamilyGroups {
        try replica.read { db in
            var merged: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, merged_into FROM families WHERE merged_into IS NOT NULL") {
                if let id = row.text("id"), let into = row.text("merged_into") { merged[id] = into }
            }
            return FamilyGroups(mergedInto: merged)
        }
    }

    /// Deliveries not voided, of the families in `families` (every family when nil), in stamp order.
    public func deliveries(of families: Set<String>? = nil) throws -> [LedgerDelivery] {
        try replica.read { db in
            var sql = """
                SELECT id, city, family, item, quantity, campaign, delivered_at, volunteer, note, association,
                       _hlc, _node
                FROM deliveries WHERE id NOT IN (SELECT delivery FROM delivery_voids)
                """
            var arguments: [String] = []
            if let families {
                arguments = families.sorted()
                sql += " AND family IN (\(arguments.map { _ in "?" }.joined(separator: ",")))"
            }
            sql += " ORDER BY _hlc, _node, id"
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)).map { row in
                let node = row.integer("_node").flatMap(NodeID.init(rawValue:))
                let hlc = row.integer("_hlc").map { HLCTimestamp(storage: $0) }
                return LedgerDelivery(
                    id: row.text("id") ?? "?", city: row.text("city") ?? "?", family: row.text("family") ?? "?",
                    item: row.text("item") ?? "?", quantity: Int(clamping: row.integer("quantity") ?? 0),
                    campaign: row.text("campaign"), deliveredAt: row.integer("delivered_at") ?? 0,
                    volunteer: row.text("volunteer") ?? "?", node: node, note: row.text("note"),
                    association: row.text("association"),
                    stamp: node.flatMap { node in hlc.map { Stamp(hlc: $0, node: node) } })
            }
        }
    }

    /// What a device decides before logging `delivery`: the family group it counts for, the rules it would
    /// break given every delivery this replica holds for that group, and those of `pending` (deliveries
    /// about to be logged with it, such as a sheet's earlier rows) of that group.
    public func verdict(for delivery: NewDelivery, pending: [LedgerDelivery] = []) throws -> DeliveryVerdict {
        let groups = try familyGroups()
        let root = groups.root(delivery.family)
        let members = groups.members(of: root)
        let prior = try deliveries(of: members) + pending.filter { members.contains($0.family) }
        let catalogue = try Catalogue(replica.records)
        let rules = try EntitlementRule.all(in: replica.records, catalogue: catalogue)
        let candidate = CountedDelivery(
            id: "", item: delivery.item, quantity: delivery.quantity, campaign: delivery.campaign,
            deliveredAt: Int64(clamping: delivery.deliveredAt))
        let breaches = Entitlements.breaches(of: candidate, given: prior.map(\.counted), rules: rules)
        let byID = Dictionary(prior.map { ($0.id, $0) }) { first, _ in first }
        return DeliveryVerdict(
            family: root, breaches: breaches,
            evidence: Array(Set(breaches.flatMap { $0.counted.map(\.id) })).compactMap { byID[$0] }.sorted {
                $0.deliveredAt < $1.deliveredAt
            })
    }
}

/// The device's decision on a delivery about to be logged.
public struct DeliveryVerdict: Sendable {
    /// The family it counts for (the family merged into, when the card's family was merged).
    public var family: String
    public var breaches: [EntitlementBreach]
    /// The deliveries the broken rules count, oldest first.
    public var evidence: [LedgerDelivery]
}

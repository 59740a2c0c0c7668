import FieldDomain
import Foundation
public import GRDB
public import SyncCore

/// What the admin sees: totals, entitlement breaches with evidence, likely duplicate families, conflicts,
/// stale devices. Computed from a replica (central's, or a synced admin copy); merged families count as
/// the family they were merged into.
public struct Report {
    public struct Total: Sendable {
        public var city: String
        public var association: String
        public var item: String
        public var campaign: String
        public var deliveries: Int
        public var quantity: Int
        public var families: Int
    }

    public struct Delivery: Sendable {
        public var id: String
        public var city: String
        public var family: String
        public var reference: String
        public var item: String
        public var quantity: Int
        public var campaign: String?
        public var deliveredAt: Int64
        public var volunteer: String
        public var node: String
        public var note: String?
        public var association: String?

        var counted: CountedDelivery {
            CountedDelivery(id: id, item: item, quantity: quantity, campaign: campaign, deliveredAt: deliveredAt)
        }
    }

    public struct Breach: Sendable {
        public var city: String
        public var family: String
        public var reference: String
        public var item: String
        public var campaign: String?
        public var max: Int
        public var received: Int
        /// The deliveries the rule counted, the breaching one last.
        public var evidence: [Delivery]
        /// The delivery that broke the rule.
        public var delivery: String
        public var rule: EntitlementRule
    }

    public struct Duplicate: Sendable {
        public var city: String
        public var families: [(id: String, reference: String, head: String, phone: String)]
        public var reason: String
    }

    public struct Conflict: Sendable {
        public var collection: String
        public var record: String
        /// The family's reference, for a family record.
        public var reference: String?
        public var field: String
        public var lost: String
        public var lostAt: Int64
        public var lostBy: String
        public var keptAt: Int64
        public var keptBy: String
    }

    public struct DeviceHealth: Sendable {
        public var node: String
        public var name: String
        public var role: String
        public var city: String
        public var lastSeen: Int64
        public var backlog: Int
        public var clockOffset: Int64
        public var lastError: String?
        /// The hub that relayed this status, if the device syncs through one.
        public var via: String?
        public var stale: Bool
        public var skewed: Bool
    }

    public var totals: [Total] = []
    public var breaches: [Breach] = []
    public var duplicates: [Duplicate] = []
    public var conflicts: [Conflict] = []
    public var devices: [DeviceHealth] = []
    /// Records refused record by record, still open (see `field admin refused`).
    public var refused: [RefusedEntry] = []
    /// References to records this replica does not hold (a delivery of a family never received).
    public var dangling: [DanglingReference] = []
    /// Recharge codes per city, devices running low, refused hand-outs (decision record 0017).
    public var vouchers: VoucherReport?
    /// Each city's stock of each item its hub records (decision record 0020); overdrawn ones flagged.
    public var stock: [Stock.Level] = []

    /// Devices silent for longer than this are stale. Default 3 days.
    public static let staleAfterMillis: Int64 = 3 * 86_400_000

    /// `voucherLowBelow`: a device holding fewer unused recharge codes is running low.
    public init(_ replica: Replica, now: Int64, voucherLowBelow: Int = 5) throws {
        let ledger = DeliveryLedger(replica)
        let groups = try ledger.familyGroups()
        let all = try ledger.deliveries()
        let families = try Self.families(replica)
        let deliveries = all.map { delivery in
            let root = groups.root(delivery.family)
            return Delivery(
                id: delivery.id, city: delivery.city, family: root,
                reference: families[root]?.reference ?? families[delivery.family]?.reference ?? delivery.family,
                item: delivery.item, quantity: delivery.quantity, campaign: delivery.campaign,
                deliveredAt: delivery.deliveredAt, volunteer: delivery.volunteer,
                node: delivery.node?.description ?? "?", note: delivery.note,
                association: delivery.association ?? families[root]?.association
                    ?? families[delivery.family]?.association)
        }
        let associations = try Dictionary(
            replica.records.records("associations", limit: 100_000).map {
                ($0.id, $0.values["name"]?.textValue ?? $0.id)
            }, uniquingKeysWith: { first, _ in first })
        totals = Self.totals(deliveries, associations: associations)
        let catalogue = try Catalogue(replica.records)
        breaches = Self.breaches(deliveries, rules: try EntitlementRule.all(in: replica.records, catalogue: catalogue))
        duplicates = try Self.duplicates(replica)
        // A recharge code's moves displace each other by design (decision record 0017: each is written by
        // the holder of the moment, after the move before it): custody, not conflicts. Its disputes are
        // the refused hand-outs of the codes' section.
        conflicts = try replica.history().filter {
            $0.isConflict && !($0.collection == "vouchers" && Vouchers.custodyFields.contains($0.field))
        }.map { entry in
            Conflict(
                collection: entry.collection, record: entry.recordID,
                reference: entry.collection == "families"
                    ? try replica.record("families", id: entry.recordID)?["reference"]?.textValue : nil,
                field: entry.field, lost: entry.value.description,
                lostAt: Int64(entry.stamp.hlc.millis), lostBy: entry.stamp.node.description,
                keptAt: Int64(entry.winner.hlc.millis), keptBy: entry.winner.node.description)
        }
        refused = try replica.refusedRecords()
        dangling = try replica.danglingReferences()
        devices = try replica.read { db in
            // Every value here came from a client (a relayed status): shown as it is, never trusted to fit.
            try Row.fetchAll(db, sql: "SELECT * FROM _heartbeats ORDER BY last_seen_ms").map { row in
                let lastSeen = row.integer("last_seen_ms") ?? 0
                let offset = row.integer("clock_offset_ms") ?? 0
                return DeviceHealth(
                    node: row.text("node") ?? "?", name: row.text("name") ?? "?", role: row.text("role") ?? "?",
                    city: row.text("city") ?? "-", lastSeen: lastSeen,
                    backlog: Int(clamping: row.integer("backlog") ?? 0), clockOffset: offset,
                    lastError: row.text("last_error"), via: row.text("via"),
                    stale: now.subtractingReportingOverflow(lastSeen).partialValue > Self.staleAfterMillis
                        || lastSeen > now + Self.staleAfterMillis,
                    skewed: offset.magnitude > 5 * 60_000)
            }
        }
        let names = Dictionary(devices.map { ($0.node, $0.name) }, uniquingKeysWith: { _, last in last })
        vouchers = try VoucherReport(replica, lowBelow: voucherLowBelow, names: names)
        stock = try Stock.levels(replica)
    }

    /// Each family's reference and association (deleted ones too: their deliveries still count).
    private static func families(_ replica: Replica) throws -> [String: (reference: String, association: String?)] {
        try replica.read { db in
            var families: [String: (reference: String, association: String?)] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, reference, association FROM families") {
                guard let id = row.text("id") else { continue }
                families[id] = (row.text("reference") ?? id, row.text("association"))
            }
            return families
        }
    }

    private static func totals(_ deliveries: [Delivery], associations: [String: String]) -> [Total] {
        struct Key: Hashable {
            var city, association, item, campaign: String
        }
        var groups: [Key: (count: Int, quantity: Int, families: Set<String>)] = [:]
        for delivery in deliveries {
            let key = Key(
                city: delivery.city, association: delivery.association.map { associations[$0] ?? $0 } ?? "-",
                item: delivery.item,
                campaign: delivery.campaign ?? "-")
            var group = groups[key] ?? (0, 0, [])
            group.count += 1
            group.quantity = group.quantity.addingSaturating(delivery.quantity)
            group.families.insert(delivery.family)
            groups[key] = group
        }
        return groups.map { key, group in
            Total(
                city: key.city, association: key.association, item: key.item, campaign: key.campaign,
                deliveries: group.count, quantity: group.quantity, families: group.families.count)
        }.sorted { ($0.city, $0.association, $0.item, $0.campaign) < ($1.city, $1.association, $1.item, $1.campaign) }
    }

    /// Every delivery that breaks a rule given the deliveries stamped before it to its family group: the
    /// verdict a device gives (``Entitlements``), so a device that knew them all would have refused it.
    static func breaches(_ deliveries: [Delivery], rules: [EntitlementRule]) -> [Breach] {
        var breaches: [Breach] = []
        for (family, received) in Dictionary(grouping: deliveries, by: \.family).sorted(by: { $0.key < $1.key }) {
            // Counted once per family group; each delivery is checked against the slice before it.
            let counted = received.map(\.counted)
            for (index, delivery) in received.enumerated() {
                let prior = received[..<index]
                let found = Entitlements.breaches(of: counted[index], given: counted[..<index], rules: rules)
                for breach in found {
                    let ids = Set(breach.counted.map(\.id))
                    breaches.append(
                        Breach(
                            city: delivery.city, family: family, reference: delivery.reference, item: delivery.item,
                            campaign: delivery.campaign, max: breach.rule.max, received: breach.total,
                            evidence: prior.filter { ids.contains($0.id) } + [delivery], delivery: delivery.id,
                            rule: breach.rule))
                }
            }
        }
        return breaches
    }

    /// Likely duplicate families, pair by pair, with the evidence (``FamilyMatcher``); families merged
    /// into another are not candidates, and pairs the admin marked as different never appear.
    private static func duplicates(_ replica: Replica) throws -> [Duplicate] {
        let families = try replica.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, city, reference, head_name, phone, district, address, household_size, association
                    FROM families WHERE _deleted IS NULL AND merged_into IS NULL ORDER BY city, id
                    """
            ).compactMap { row -> FamilyCandidate? in
                var record: [String: Value] = [:]
                for column in row.columnNames { record[column] = Value(row[column] as DatabaseValue) }
                return FamilyCandidate(record: record)
            }
        }
        let distinct = Set(
            try FamilyMerge.distinctPairs(replica.records).compactMap { pair -> FamilyPair? in
                let ids = pair.sorted()
                return ids.count == 2 ? FamilyPair(ids[0], ids[1]) : nil
            })
        return FamilyMatcher(families: families, notDuplicates: distinct).pairs().map { pair in
            Duplicate(
                city: pair.first.city,
                families: [pair.first, pair.second].map { ($0.id, $0.reference, $0.headName, $0.phone ?? "") },
                reason: pair.explanation.joined(separator: "; "))
        }
    }
}

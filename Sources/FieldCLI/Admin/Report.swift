import FieldDomain
import Foundation
import GRDB
import SyncCore

/// What the admin sees: totals, entitlement breaches with evidence, likely duplicate families, conflicts,
/// stale devices. Computed from a replica (central's, or a synced admin copy); merged families count as
/// the family they were merged into.
struct Report {
    struct Total: Sendable {
        var city: String
        var association: String
        var item: String
        var campaign: String
        var deliveries: Int
        var quantity: Int
        var families: Int
    }

    struct Delivery: Sendable {
        var id: String
        var city: String
        var family: String
        var reference: String
        var item: String
        var quantity: Int
        var campaign: String?
        var deliveredAt: Int64
        var volunteer: String
        var node: String
        var note: String?
    }

    struct Breach: Sendable {
        var city: String
        var family: String
        var reference: String
        var item: String
        var campaign: String?
        var max: Int
        var received: Int
        var evidence: [Delivery]
    }

    struct Duplicate: Sendable {
        var city: String
        var families: [(id: String, reference: String, head: String, phone: String)]
        var reason: String
    }

    struct Conflict: Sendable {
        var collection: String
        var record: String
        /// The family's reference, for a family record.
        var reference: String?
        var field: String
        var lost: String
        var lostAt: Int64
        var lostBy: String
        var keptAt: Int64
        var keptBy: String
    }

    struct DeviceHealth: Sendable {
        var node: String
        var name: String
        var role: String
        var city: String
        var lastSeen: Int64
        var backlog: Int
        var clockOffset: Int64
        var lastError: String?
        /// The hub that relayed this status, if the device syncs through one.
        var via: String?
        var stale: Bool
        var skewed: Bool
    }

    var totals: [Total] = []
    var breaches: [Breach] = []
    var duplicates: [Duplicate] = []
    var conflicts: [Conflict] = []
    var devices: [DeviceHealth] = []
    /// Records refused record by record, still open (see `field admin refused`).
    var refused: [RefusedEntry] = []
    /// References to records this replica does not hold (a delivery of a family never received).
    var dangling: [DanglingReference] = []

    /// Devices silent for longer than this are stale. Default 3 days.
    static let staleAfterMillis: Int64 = 3 * 86_400_000

    init(_ replica: Replica, now: Int64) throws {
        let rows = try replica.read { db in
            try Self.deliveries(db)
        }
        totals = Self.totals(rows.deliveries, associations: rows.associations)
        breaches = try Self.breaches(replica, rows.deliveries)
        duplicates = try Self.duplicates(replica)
        conflicts = try replica.history().filter(\.isConflict).map { entry in
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
    }

    /// Non-voided deliveries, each counted for the family it was merged into, if any.
    private static func deliveries(_ db: Database) throws -> (deliveries: [Delivery], associations: [String: String]) {
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT d.id, d.city, COALESCE(f.merged_into, d.family) AS family, d.item, d.quantity, d.campaign,
                       d.delivered_at, d.volunteer, d._node, d.note,
                       COALESCE(k.reference, f.reference, d.family) AS reference,
                       COALESCE(k.association, f.association) AS association
                FROM deliveries d
                LEFT JOIN families f ON f.id = d.family
                LEFT JOIN families k ON k.id = f.merged_into
                WHERE d.id NOT IN (SELECT delivery FROM delivery_voids)
                ORDER BY d.delivered_at, d.id
                """)
        var associations: [String: String] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT id, name FROM associations") {
            if let id = row.text("id") { associations[id] = row.text("name") ?? id }
        }
        var familyAssociation: [String: String] = [:]
        // Values a client sent: a missing one shows as "?", never stops the report.
        let deliveries = rows.map { row -> Delivery in
            let family = row.text("family") ?? "?"
            if let association = row.text("association") { familyAssociation[family] = association }
            let node = row.integer("_node") ?? 0
            return Delivery(
                id: row.text("id") ?? "?", city: row.text("city") ?? "?", family: family,
                reference: row.text("reference") ?? family, item: row.text("item") ?? "?",
                quantity: Int(clamping: row.integer("quantity") ?? 0), campaign: row.text("campaign"),
                deliveredAt: row.integer("delivered_at") ?? 0, volunteer: row.text("volunteer") ?? "?",
                node: NodeID(rawValue: node)?.description ?? String(node), note: row.text("note"))
        }
        var names: [String: String] = [:]
        for (family, association) in familyAssociation { names[family] = associations[association] ?? association }
        return (deliveries, names)
    }

    private static func totals(_ deliveries: [Delivery], associations: [String: String]) -> [Total] {
        struct Key: Hashable {
            var city, association, item, campaign: String
        }
        var groups: [Key: (count: Int, quantity: Int, families: Set<String>)] = [:]
        for delivery in deliveries {
            let key = Key(
                city: delivery.city, association: associations[delivery.family] ?? "-", item: delivery.item,
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

    private static func breaches(_ replica: Replica, _ deliveries: [Delivery]) throws -> [Breach] {
        let rules = try replica.read { db in
            try Row.fetchAll(
                db, sql: "SELECT item, campaign, max_per_family, window_days FROM entitlements WHERE _deleted IS NULL"
            ).compactMap { row -> (item: String, campaign: String?, max: Int, window: Int?)? in
                guard let item = row.text("item"), let max = row.integer("max_per_family") else { return nil }
                return (
                    item, row.text("campaign"), Int(clamping: max), row.integer("window_days").map(Int.init(clamping:))
                )
            }
        }
        var breaches: [Breach] = []
        for rule in rules {
            let matching = deliveries.filter {
                $0.item == rule.item && (rule.campaign == nil || $0.campaign == rule.campaign)
            }
            let byFamily = Dictionary(grouping: matching) { $0.family }
            for (family, received) in byFamily.sorted(by: { $0.key < $1.key }) {
                // Within a window: the largest sum of any run of deliveries closer than the window.
                var worst = 0
                var evidence: [Delivery] = []
                for (index, first) in received.enumerated() {
                    let run = received[index...].prefix { delivery in
                        rule.window.map {
                            delivery.deliveredAt.subtractingReportingOverflow(first.deliveredAt).partialValue
                                < Int64($0).multipliedReportingOverflow(by: 86_400_000).partialValue
                        } ?? true
                    }
                    let total = run.reduce(0) { $0.addingSaturating($1.quantity) }
                    if total > worst { (worst, evidence) = (total, Array(run)) }
                    if rule.window == nil { break }
                }
                if worst > rule.max, let first = received.first {
                    breaches.append(
                        Breach(
                            city: first.city, family: family, reference: first.reference, item: rule.item,
                            campaign: rule.campaign, max: rule.max, received: worst, evidence: evidence))
                }
            }
        }
        return breaches
    }

    /// Families of one city with the same phone or reference, or near-identical names.
    private static func duplicates(_ replica: Replica) throws -> [Duplicate] {
        let families = try replica.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, city, reference, head_name, phone FROM families
                    WHERE _deleted IS NULL AND merged_into IS NULL ORDER BY city, id
                    """
            ).map { row -> (id: String, city: String, reference: String, head: String, phone: String) in
                (
                    row.text("id") ?? "?", row.text("city") ?? "?", row.text("reference") ?? "",
                    row.text("head_name") ?? "", row.text("phone") ?? ""
                )
            }
        }
        var result: [Duplicate] = []
        for (city, members) in Dictionary(grouping: families, by: \.city).sorted(by: { $0.key < $1.key }) {
            var reported: Set<Set<String>> = []
            func add(
                _ group: [(id: String, city: String, reference: String, head: String, phone: String)], _ reason: String
            ) {
                let ids = Set(group.map(\.id))
                guard group.count > 1, !reported.contains(ids) else { return }
                reported.insert(ids)
                result.append(
                    Duplicate(
                        city: city, families: group.map { ($0.id, $0.reference, $0.head, $0.phone) }, reason: reason))
            }
            for (_, group) in Dictionary(grouping: members, by: { TextMatch.normalize($0.reference) }) {
                add(group, "same reference")
            }
            for (key, group) in Dictionary(grouping: members, by: { TextMatch.phoneKey($0.phone) ?? "" })
            where !key.isEmpty {
                add(group, "same phone")
            }
            // Names: compared within buckets of the same first letters (a city has tens of thousands).
            let named = members.map { ($0, TextMatch.normalize($0.head)) }
            for (_, bucket) in Dictionary(grouping: named, by: { String($0.1.prefix(2)) }) {
                for i in bucket.indices {
                    for j in bucket.indices where j > i && TextMatch.similar(bucket[i].1, bucket[j].1) {
                        add([bucket[i].0, bucket[j].0], "near-identical names")
                    }
                }
            }
        }
        return result
    }
}

extension Int {
    /// The sum, held at the bounds instead of trapping (quantities come from clients).
    func addingSaturating(_ other: Int) -> Int {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }
}

import FieldDomain
import Foundation
import GRDB
import SyncCore

struct CoreRun {
    var mergeOurs: Double
    var mergePlain: Double
    var writeOurs: Double
    var writePlain: Double
    var feedOurs: Double
    var feedPlain: Double
    var mergeFamiliesOurs: Double
    var mergeFamiliesPlain: Double
    var changedFamilies: Int
    var feedRecords: Int

    var r1: Double { mergeOurs / mergePlain }
    var r2: Double { writeOurs / writePlain }
    var feed: Double { feedOurs / feedPlain }
}

struct CoreWorkload {
    var families: Int
    var edits: Int
    var deliveries: Int
    var seed: UInt64
    static let transactionSize = 1_000
    static let editableFields = ["phone", "notes", "household_size", "district", "address", "head_name"]
    static let cities = ["Oran", "Tlemcen", "Annaba", "Sétif", "Béjaïa", "Constantine", "Blida", "Alger"]

    func measure(in directory: URL) throws -> CoreRun {
        var rng = SplitMix64(seed: seed)
        var configuration = ReplicaConfiguration()
        configuration.durability = .full
        let source = try Replica(
            path: directory.appendingPathComponent("source.sqlite").path, schema: .fieldSync,
            configuration: configuration)
        let target = try Replica(
            path: directory.appendingPathComponent("target.sqlite").path, schema: .fieldSync,
            configuration: configuration)
        let plain = try DatabasePool(
            path: directory.appendingPathComponent("plain.sqlite").path,
            configuration: Replica.grdbConfiguration(configuration))
        try PlainTables.create(plain)
        // The merge baseline gets a fresh file too, as the merge target is one.
        let plainMerge = try DatabasePool(
            path: directory.appendingPathComponent("plain-merge.sqlite").path,
            configuration: Replica.grdbConfiguration(configuration))
        try PlainTables.create(plainMerge)

        // Families, on both replicas and in the plain tables: the state before the edits.
        var familyIDs: [String] = []
        var familyRows: [String: [Value]] = [:]
        for chunk in stride(from: 0, to: families, by: Self.transactionSize) {
            try source.write { tx in
                for index in chunk..<min(chunk + Self.transactionSize, families) {
                    let family = NewFamily(
                        city: Self.cities[index % Self.cities.count], reference: "REF-\(index)",
                        headName: "Head \(index)",
                        phone: "0555\(String(format: "%06d", index))", householdSize: index % 7 + 1,
                        district: "District \(index % 40)")
                    let id = try tx.addFamily(family)
                    familyIDs.append(id)
                    familyRows[id] = PlainTables.familyRow(id: id, family)
                }
            }
        }
        let initial = try source.changes(since: .start, limit: Int.max / 2)
        try target.apply(initial.batch)
        try PlainTables.upsertFamilies(
            plainMerge, familyIDs.map { familyRows[$0]! }, transactionSize: Self.transactionSize)
        let afterFamilies = initial.cursor

        // Field edits on the source.
        var changed = Set<String>()
        for chunk in stride(from: 0, to: edits, by: Self.transactionSize) {
            try source.write { tx in
                for _ in chunk..<min(chunk + Self.transactionSize, edits) {
                    let id = familyIDs.randomElement(using: &rng)!
                    let field = Self.editableFields.randomElement(using: &rng)!
                    let value: Value =
                        field == "household_size"
                        ? .integer(Int64.random(in: 1...12, using: &rng))
                        : .text("\(field) \(UInt32.random(in: 0...UInt32.max, using: &rng))")
                    try tx.editFamily(id, [field: value])
                    familyRows[id]![PlainTables.familyColumn(field)] = value
                    changed.insert(id)
                }
            }
        }

        // R2: the typed local-write API against plain INSERTs of the same rows.
        let base: UInt64 = 1_780_000_000_000
        let newDeliveries = (0..<deliveries).map { index in
            NewDelivery(
                city: Self.cities[index % Self.cities.count], family: familyIDs[index % familyIDs.count],
                item: DeliveryItem.allCases[index % 3], quantity: index % 3 + 1, campaign: "campaign-\(index % 4)",
                deliveredAt: base + UInt64(index) * 1000, volunteer: "volunteer-\(index % 500)",
                note: index % 10 == 0 ? "late" : nil)
        }
        let writeOurs = try time {
            for chunk in stride(from: 0, to: deliveries, by: Self.transactionSize) {
                try source.write { tx in
                    for delivery in newDeliveries[chunk..<min(chunk + Self.transactionSize, deliveries)] {
                        try tx.logDelivery(delivery)
                    }
                }
            }
        }
        // The same rows, with the ids the typed API gave them.
        let deliveryRows = try source.read { db in
            try Row.fetchAll(
                db,
                sql:
                    "SELECT id, city, family, item, quantity, campaign, delivered_at, volunteer, note FROM deliveries ORDER BY _seq"
            ).map { row in (0..<9).map { PlainTables.value(row[$0] as DatabaseValue) } }
        }
        let writePlain = try time {
            try PlainTables.insertDeliveries(plain, deliveryRows, transactionSize: Self.transactionSize)
        }
        // The merge baseline writes into a fresh table, as the merge does into a fresh replica.
        try plainMerge.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        try target.checkpoint()

        // The feed: read every change since 0, against SELECT * of the same rows.
        var feedRecords = 0
        let feedOurs = try time {
            var cursor = FeedCursor.start
            while true {
                let page = try source.changes(since: cursor, limit: Self.transactionSize)
                feedRecords += page.batch.recordCount
                cursor = page.cursor
                if !page.hasMore { break }
            }
        }

        // R1: apply the source's changes since the families were shared, against upserts of the final rows.
        var pages: [ChangeBatch] = []
        var cursor = afterFamilies
        while true {
            let page = try source.changes(since: cursor, limit: Self.transactionSize)
            pages.append(page.batch)
            cursor = page.cursor
            if !page.hasMore { break }
        }
        // Page by page, ours then the baseline's same final rows, so that both see the same disk weather.
        let deliveryRowsByID = Dictionary(
            deliveryRows.map { ($0[0].textValue!, $0) }, uniquingKeysWith: { first, _ in first })
        var (mergeOurs, mergePlain, mergeFamiliesOurs, mergeFamiliesPlain) = (0.0, 0.0, 0.0, 0.0)
        for page in pages {
            let ours = try time { try target.apply(page) }
            var families: [[Value]] = []
            var deliveries: [[Value]] = []
            for group in page.collections {
                for record in group.records {
                    if group.name == "families" { families.append(familyRows[record.id]!) }
                    if group.name == "deliveries" { deliveries.append(deliveryRowsByID[record.id]!) }
                }
            }
            // The baseline gets its rows in key order too, as the merge sorts them (the strict comparison).
            families.sort { $0[0].textValue! < $1[0].textValue! }
            deliveries.sort { $0[0].textValue! < $1[0].textValue! }
            let plain = try time {
                try PlainTables.upsert(plainMerge, families: families, deliveries: deliveries)
            }
            mergeOurs += ours
            mergePlain += plain
            if !families.isEmpty {
                mergeFamiliesOurs += ours
                mergeFamiliesPlain += plain
            }
        }
        let feedPlain = try time { _ = try PlainTables.selectAll(plainMerge) }
        guard try target.dump() == source.dump() else {
            throw BenchError("the target replica did not converge to the source: the merge benchmark is invalid")
        }
        return CoreRun(
            mergeOurs: mergeOurs, mergePlain: mergePlain, writeOurs: writeOurs, writePlain: writePlain,
            feedOurs: feedOurs,
            feedPlain: feedPlain, mergeFamiliesOurs: mergeFamiliesOurs, mergeFamiliesPlain: mergeFamiliesPlain,
            changedFamilies: changed.count, feedRecords: feedRecords)
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

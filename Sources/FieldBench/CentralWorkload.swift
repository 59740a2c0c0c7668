import CentralPostgres
import FieldDomain
import Foundation
import GRDB
import PostgresNIO
import SyncCore

/// R11's data: a source replica's families, then its family field edits and deliveries as feed pages, and
/// the final rows of each page for the baseline (the same workload as the core suite's R1).
struct CentralSource {
    let replica: Replica
    /// The families, as central gets them before the timed part.
    let initial: ChangeBatch
    let initialFamilyRows: [[Value]]
    /// The feed since then, 1,000 records a page.
    let pages: [ChangeBatch]
    private let familyRows: [String: [Value]]
    private let deliveryRows: [String: [Value]]

    init(families: Int, edits: Int, deliveries: Int, seed: UInt64, path: String) throws {
        var rng = SplitMix64(seed: seed)
        replica = try Replica(path: path, schema: .fieldSync)
        var ids: [String] = []
        var rows: [String: [Value]] = [:]
        for chunk in stride(from: 0, to: families, by: CoreWorkload.transactionSize) {
            try replica.write { tx in
                for index in chunk..<min(chunk + CoreWorkload.transactionSize, families) {
                    let family = NewFamily(
                        city: CoreWorkload.cities[index % CoreWorkload.cities.count], reference: "REF-\(index)",
                        headName: "Head \(index)", phone: "0555\(String(format: "%06d", index))",
                        householdSize: index % 7 + 1, district: "District \(index % 40)")
                    let id = try tx.addFamily(family)
                    ids.append(id)
                    rows[id] = PlainTables.familyRow(id: id, family)
                }
            }
        }
        let first = try replica.changes(since: .start, limit: Int.max / 2)
        initial = first.batch
        initialFamilyRows = ids.map { rows[$0]! }
        for chunk in stride(from: 0, to: edits, by: CoreWorkload.transactionSize) {
            try replica.write { tx in
                for _ in chunk..<min(chunk + CoreWorkload.transactionSize, edits) {
                    let id = ids.randomElement(using: &rng)!
                    let field = CoreWorkload.editableFields.randomElement(using: &rng)!
                    let value: Value =
                        field == "household_size"
                        ? .integer(Int64.random(in: 1...12, using: &rng))
                        : .text("\(field) \(UInt32.random(in: 0...UInt32.max, using: &rng))")
                    try tx.editFamily(id, [field: value])
                    rows[id]![PlainTables.familyColumn(field)] = value
                }
            }
        }
        let base: UInt64 = 1_780_000_000_000
        for chunk in stride(from: 0, to: deliveries, by: CoreWorkload.transactionSize) {
            try replica.write { tx in
                for index in chunk..<min(chunk + CoreWorkload.transactionSize, deliveries) {
                    try tx.logDelivery(
                        NewDelivery(
                            city: CoreWorkload.cities[index % CoreWorkload.cities.count],
                            family: ids[index % ids.count],
                            item: DeliveryItem.allCases[index % 3], quantity: index % 3 + 1,
                            campaign: "campaign-\(index % 4)", deliveredAt: base + UInt64(index) * 1000,
                            volunteer: "volunteer-\(index % 500)", note: index % 10 == 0 ? "late" : nil))
                }
            }
        }
        familyRows = rows
        deliveryRows = try replica.read { db in
            let all = try Row.fetchAll(
                db,
                sql: "SELECT id, city, family, item, quantity, campaign, delivered_at, volunteer, note FROM deliveries")
            return Dictionary(
                all.map { row in (row["id"] as String, (0..<9).map { PlainTables.value(row[$0] as DatabaseValue) }) },
                uniquingKeysWith: { first, _ in first })
        }
        var pages: [ChangeBatch] = []
        var cursor = first.cursor
        while true {
            let page = try replica.changes(since: cursor, limit: CoreWorkload.transactionSize)
            pages.append(page.batch)
            cursor = page.cursor
            if !page.hasMore { break }
        }
        self.pages = pages
    }

    /// The final rows of the records a page carries, in key order.
    func finalRows(of page: ChangeBatch) -> (families: [[Value]], deliveries: [[Value]]) {
        var families: [[Value]] = []
        var deliveries: [[Value]] = []
        for group in page.collections {
            for record in group.records {
                if group.name == "families", let row = familyRows[record.id] { families.append(row) }
                if group.name == "deliveries", let row = deliveryRows[record.id] { deliveries.append(row) }
            }
        }
        families.sort { $0[0].textValue! < $1[0].textValue! }
        deliveries.sort { $0[0].textValue! < $1[0].textValue! }
        return (families, deliveries)
    }
}

/// R11's baseline: the same rows in plain PostgreSQL tables (no stamps, no feed, no history), their ids
/// compared by bytes as the merge's tables' are (decision record 0024).
enum PlainCentral {
    static func create(_ database: CentralPostgres.PostgresDatabase) async throws {
        try await database.withConnection { connection in
            try await connection.query(
                """
                CREATE TABLE families_plain (id text COLLATE "C" PRIMARY KEY, city text, association text, reference text,
                    head_name text, phone text, household_size bigint, district text, address text, notes text,
                    merged_into text)
                """, logger: database.logger)
            try await connection.query(
                """
                CREATE TABLE deliveries_plain (id text COLLATE "C" PRIMARY KEY, city text, family text, item text, quantity bigint,
                    campaign text, delivered_at bigint, volunteer text, note text)
                """, logger: database.logger)
        }
    }

    /// One transaction: each table's rows in one `INSERT … ON CONFLICT DO UPDATE`.
    static func upsert(
        _ database: CentralPostgres.PostgresDatabase, families: [[Value]], deliveries: [[Value]]
    ) async throws {
        try await database.withTransaction { connection in
            for (table, columns, rows) in [
                ("families_plain", PlainTables.familyColumns, families),
                ("deliveries_plain", PlainTables.deliveryColumns, deliveries),
            ] where !rows.isEmpty {
                // The same encoding as the merge's upsert: each column one binary array, rows by `unnest`.
                let kinds: [PostgresLayout.Kind] = columns.map {
                    ["household_size", "quantity", "delivered_at"].contains($0) ? .integer : .text
                }
                var binds = PostgresBindings()
                for (position, kind) in kinds.enumerated() {
                    try binds.append(ColumnArray(kind: kind, values: rows.map { $0[position] }))
                }
                let list = columns.joined(separator: ", ")
                let arrays = kinds.enumerated().map { "$\($0.offset + 1)::\($0.element.columnType)[]" }
                let updates = columns.dropFirst().map { "\($0) = EXCLUDED.\($0)" }.joined(separator: ", ")
                try await connection.query(
                    PostgresQuery(
                        unsafeSQL:
                            "INSERT INTO \(table) (\(list)) SELECT * FROM unnest(\(arrays.joined(separator: ", "))) "
                            + "ON CONFLICT (id) DO UPDATE SET \(updates)",
                        binds: binds), logger: database.logger)
            }
        }
    }
}

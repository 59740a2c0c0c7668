import FieldDomain
import GRDB
import SyncCore

/// The baseline: the same domain rows in plain tables (no stamps, no feed, no history), written and read
/// with the same statement code SyncCore uses.
enum PlainTables {
    static let familyColumns = [
        "id", "city", "association", "reference", "head_name", "phone", "household_size", "district",
        "address", "notes", "merged_into",
    ]
    static let deliveryColumns = [
        "id", "city", "family", "item", "quantity", "campaign", "delivered_at", "volunteer", "note",
    ]

    static func create(_ db: DatabasePool, deliveriesOnly: Bool = false) throws {
        try db.write { db in
            if !deliveriesOnly {
                try db.execute(
                    sql: """
                        CREATE TABLE families_plain (id TEXT NOT NULL PRIMARY KEY, city TEXT, association TEXT, reference TEXT,
                            head_name TEXT, phone TEXT, household_size INTEGER, district TEXT, address TEXT, notes TEXT, merged_into TEXT)
                        """)
            }
            try db.execute(
                sql: """
                    CREATE TABLE deliveries_plain (id TEXT NOT NULL PRIMARY KEY, city TEXT, family TEXT, item TEXT,
                        quantity INTEGER, campaign TEXT, delivered_at INTEGER, volunteer TEXT, note TEXT);
                    """)
        }
    }

    static func familyColumn(_ field: String) -> Int { familyColumns.firstIndex(of: field)! }

    static func familyRow(id: String, _ family: NewFamily) -> [Value] {
        [
            .text(id), .text(family.city), family.association.map(Value.text) ?? .null, .text(family.reference),
            .text(family.headName), family.phone.map(Value.text) ?? .null,
            family.householdSize.map { .integer(Int64($0)) } ?? .null, family.district.map(Value.text) ?? .null,
            family.address.map(Value.text) ?? .null, family.notes.map(Value.text) ?? .null, .null,
        ]
    }

    static func value(_ dbValue: DatabaseValue) -> Value {
        switch dbValue.storage {
        case .int64(let number): .integer(number)
        case .double(let number): .real(number)
        case .string(let text): .text(text)
        default: .null
        }
    }

    static func upsertSQL(_ table: String, _ columns: [String]) -> String {
        let placeholders = (1...columns.count).map { "?\($0)" }.joined(separator: ", ")
        let sets = columns.dropFirst().map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
        return
            "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES (\(placeholders)) ON CONFLICT(id) DO UPDATE SET \(sets)"
    }

    static func upsertFamilies(_ pool: DatabasePool, _ rows: [[Value]], transactionSize: Int) throws {
        try write(pool, upsertSQL("families_plain", familyColumns), rows, transactionSize: transactionSize)
    }

    static func upsertDeliveries(_ pool: DatabasePool, _ rows: [[Value]], transactionSize: Int) throws {
        try write(pool, upsertSQL("deliveries_plain", deliveryColumns), rows, transactionSize: transactionSize)
    }

    /// Upserts families and deliveries in one transaction (one page of the merge).
    static func upsert(_ pool: DatabasePool, families: [[Value]], deliveries: [[Value]]) throws {
        try pool.writeWithoutTransaction { db in
            try db.inTransaction(.immediate) {
                for (sql, rows) in [
                    (upsertSQL("families_plain", familyColumns), families),
                    (upsertSQL("deliveries_plain", deliveryColumns), deliveries),
                ] where !rows.isEmpty {
                    let statement = try SQLStatement(db, sql)
                    for row in rows {
                        for (index, value) in row.enumerated() { statement.bind(value, at: Int32(index + 1)) }
                        try statement.run()
                    }
                }
                return .commit
            }
        }
    }

    static func insertDeliveries(_ pool: DatabasePool, _ rows: [[Value]], transactionSize: Int) throws {
        let placeholders = (1...deliveryColumns.count).map { "?\($0)" }.joined(separator: ", ")
        try write(
            pool, "INSERT INTO deliveries_plain (\(deliveryColumns.joined(separator: ", "))) VALUES (\(placeholders))",
            rows,
            transactionSize: transactionSize)
    }

    private static func write(_ pool: DatabasePool, _ sql: String, _ rows: [[Value]], transactionSize: Int) throws {
        for chunk in stride(from: 0, to: rows.count, by: transactionSize) {
            try pool.writeWithoutTransaction { db in
                try db.inTransaction(.immediate) {
                    let statement = try SQLStatement(db, sql)
                    for row in rows[chunk..<min(chunk + transactionSize, rows.count)] {
                        for (index, value) in row.enumerated() { statement.bind(value, at: Int32(index + 1)) }
                        try statement.run()
                    }
                    return .commit
                }
            }
        }
    }

    /// SELECT * of both tables, every column of every row read into values.
    static func selectAll(_ pool: DatabasePool) throws -> Int {
        try pool.read { db in
            var count = 0
            for (table, width) in [
                ("families_plain", familyColumns.count), ("deliveries_plain", deliveryColumns.count),
            ] {
                let statement = try SQLStatement(db, "SELECT * FROM \(table)")
                while try statement.step() {
                    var row: [Value] = []
                    row.reserveCapacity(width)
                    for column in 0..<Int32(width) { row.append(statement.value(column)) }
                    count += row.count
                }
            }
            return count
        }
    }
}

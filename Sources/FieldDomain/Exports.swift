public import GRDB
public import SyncCore

/// A table for the admin's spreadsheet: a header and rows of values (times as Unix ms).
public struct ExportTable: Sendable {
    public var header: [String]
    public var rows: [[Value]]
    /// The columns holding times (Unix ms), for the front end to format.
    public var timeColumns: Set<Int>
}

/// The domain's exports, written once for every front end.
public enum Exports {
    /// Families not deleted, by city and reference; `counted_as` is the family a merged one counts as.
    public static func families(_ replica: Replica) throws -> ExportTable {
        let groups = try DeliveryLedger(replica).familyGroups()
        let header = [
            "id", "city", "reference", "head_name", "phone", "household_size", "district", "address", "association",
            "merged_into", "notes",
        ]
        let rows = try replica.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, city, reference, head_name, phone, household_size, district, address, association,
                           merged_into, notes FROM families WHERE _deleted IS NULL ORDER BY city, reference
                    """
            ).map { row in (0..<header.count).map { Value(row[$0] as DatabaseValue) } }
        }
        return ExportTable(
            header: header + ["counted_as"],
            rows: rows.map { row in row + [row[0].textValue.map { .text(groups.root($0)) } ?? .null] },
            timeColumns: [])
    }

    /// Every delivery, voided ones with their void's reason, by time.
    public static func deliveries(_ replica: Replica) throws -> ExportTable {
        let header = [
            "id", "city", "family", "family_reference", "item", "quantity", "campaign", "delivered_at", "volunteer",
            "note", "voided_reason", "association",
        ]
        let rows = try replica.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT d.id, d.city, d.family, f.reference, d.item, d.quantity, d.campaign, d.delivered_at,
                           d.volunteer, d.note,
                           (SELECT reason FROM delivery_voids v WHERE v.delivery = d.id LIMIT 1) AS voided,
                           d.association
                    FROM deliveries d LEFT JOIN families f ON f.id = d.family ORDER BY d.delivered_at, d.id
                    """
            ).map { row in (0..<header.count).map { Value(row[$0] as DatabaseValue) } }
        }
        return ExportTable(header: header, rows: rows, timeColumns: [7])
    }
}

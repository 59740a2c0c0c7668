package import Logging
package import PostgresNIO
import SyncCore

/// Rows of a collection's table read for a merge: by id, whole, or its first in id order.
extension PostgresStore {
    /// The rows of `layout` with these ids (the absent ones are not in the result).
    package static func readRows(
        _ connection: PostgresConnection, _ layout: PostgresLayout, ids: [String], logger: Logger
    ) async throws -> [String: MergedRow] {
        var binds = PostgresBindings()
        binds.append(ids)
        let query = PostgresQuery(unsafeSQL: rowsByIDSQL(layout), binds: binds)
        var rows: [String: MergedRow] = [:]
        for try await row in try await connection.run(query, logger: logger) {
            let (id, merged) = try layout.decode(row)
            rows[id] = merged
        }
        return rows
    }

    /// The statement of ``readRows(_:_:ids:logger:)``: `$1` the ids, each looked up through the primary key.
    ///
    /// Not `WHERE id = ANY($1)`: for a page's thousand ids PostgreSQL reckons that most of the table
    /// matches, and reads all of it (with statistics too: 5.5 ms at 50,000 rows against 1.2 ms through the
    /// key, and growing with the table). The lateral subquery, kept apart by its `LIMIT`, leaves it one
    /// way: a lookup per id.
    package static func rowsByIDSQL(_ layout: PostgresLayout) -> String {
        "SELECT r.* FROM unnest($1::text[]) AS k(id) CROSS JOIN LATERAL "
            + "(SELECT \(layout.selectList) FROM \(layout.table) AS t WHERE t.id = k.id LIMIT 1) AS r"
    }

    /// Reads what a pass's rules asked for (see ``PostgresRuleReads``), one query per collection: whole
    /// collections (or, past the bound, that they are too large), records by id, a collection's first live
    /// records in id order.
    static func read(
        _ misses: Set<RuleRead>, into reads: inout PostgresRuleReads, layouts: [PostgresLayout],
        connection: PostgresConnection, logger: Logger
    ) async throws {
        var ids: [Int: [String]] = [:]
        var firsts: [Int: Int] = [:]
        for miss in misses {
            switch miss {
            case .collection(let index):
                let bound = PostgresRuleReads.wholeCollectionBound
                let rows = try await readRows(
                    connection, layouts[index], where: "TRUE LIMIT \(bound + 1)", logger: logger)
                if rows.count > bound {
                    reads.tooLarge.insert(index)
                } else {
                    reads.whole[index] = Dictionary(rows, uniquingKeysWith: { $1 })
                }
            case .record(let index, let id): ids[index, default: []].append(id)
            case .first(let index, let count): firsts[index] = max(firsts[index] ?? 0, count)
            }
        }
        for (index, list) in ids {
            let found = try await readRows(connection, layouts[index], ids: list, logger: logger)
            reads.noteMissed(index, ids: list, found: found)
        }
        for (index, count) in firsts {
            let layout = layouts[index]
            let live = layout.isProfile ? "\(quoted(layout.registers[layout.collection.fields.count])) IS NULL" : "TRUE"
            let rows = try await readRows(
                connection, layout, where: "\(live) ORDER BY id COLLATE \"C\" LIMIT \(count)", logger: logger)
            reads.first[index] = (rows, rows.count < count)
        }
    }

    /// The rows of `layout` that `condition` (SQL after `WHERE`, with no value of a client in it) selects,
    /// in the order it gives.
    private static func readRows(
        _ connection: PostgresConnection, _ layout: PostgresLayout, where condition: String, logger: Logger
    ) async throws -> [(id: String, row: MergedRow)] {
        let query = PostgresQuery(unsafeSQL: "SELECT \(layout.selectList) FROM \(layout.table) WHERE \(condition)")
        var rows: [(id: String, row: MergedRow)] = []
        for try await row in try await connection.run(query, logger: logger) {
            rows.append(try layout.decode(row))
        }
        return rows
    }
}

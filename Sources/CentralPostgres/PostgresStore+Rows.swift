import Logging
import PostgresNIO
package import SyncCore

/// Rows in and out of a collection's table: read by id before a merge, written back after it.
extension PostgresStore {
    /// The rows of `layout` with these ids (the absent ones are not in the result).
    static func readRows(
        _ connection: PostgresConnection, _ layout: PostgresLayout, ids: [String], logger: Logger
    ) async throws -> [String: MergedRow] {
        var binds = PostgresBindings()
        binds.append(ids)
        let query = PostgresQuery(
            unsafeSQL: "SELECT \(layout.selectList) FROM \(layout.table) WHERE id = ANY($1)", binds: binds)
        var rows: [String: MergedRow] = [:]
        for try await row in try await connection.query(query, logger: logger) {
            let (id, merged) = try layout.decode(row.makeRandomAccess())
            rows[id] = merged
        }
        return rows
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
            reads.noteRead(index, ids: list, found: found)
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
        for try await row in try await connection.query(query, logger: logger) {
            rows.append(try layout.decode(row.makeRandomAccess()))
        }
        return rows
    }

    /// Writes the session's changed rows (one upsert per table), its displaced values (new ones counted:
    /// the conflicts), its departures, and the clock and the head into `_meta`.
    static func flush(
        _ session: PostgresWriteSession, connection: PostgresConnection, logger: Logger
    ) async throws
        -> Int
    {
        for (index, ids) in session.dirty.enumerated() where !ids.isEmpty {
            let layout = session.layouts[index]
            let binds = try layout.upsertBindings(ids.sorted().map { ($0, session.rows[index][$0]!) })
            try await connection.query(PostgresQuery(unsafeSQL: layout.upsertSQL, binds: binds), logger: logger)
        }
        var conflicts = 0
        if !session.history.isEmpty {
            let json = Self.historyJSON(session.history)
            let inserted = try await connection.query(
                """
                INSERT INTO _history (collection, record_id, field, value, value_hlc, value_node, winner_hlc, winner_node)
                SELECT collection, record_id, field, value, value_hlc, value_node, winner_hlc, winner_node
                FROM jsonb_to_recordset(\(json)::jsonb) AS x(collection text, record_id text, field text, value jsonb,
                    value_hlc bigint, value_node bigint, winner_hlc bigint, winner_node bigint)
                ON CONFLICT (collection, record_id, field, value_hlc, value_node) DO NOTHING
                RETURNING 1
                """, logger: logger)
            for try await _ in inserted { conflicts += 1 }
        }
        for departure in session.departures {
            try await connection.query(
                """
                INSERT INTO _departures (seq, collection, record_id, scope)
                VALUES (\(departure.sequence), \(departure.collection), \(departure.id), \(departure.scope))
                """, logger: logger)
        }
        try await connection.query(
            "UPDATE _meta SET hlc = \(session.clock.last.storage), seq = \(session.sequence) WHERE id = 1",
            logger: logger)
        return conflicts
    }
}

internal import GRDB

extension Replica {
    /// Conflicts recorded here after history row `rowid` (oldest first, at most `limit`), with the last
    /// row id read: what a hub relays upstream.
    public func conflicts(
        afterRow rowid: Int64, limit: Int = HistoryEntry.maxRelayed
    ) throws
        -> (entries: [HistoryEntry], lastRow: Int64)
    {
        try read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, collection, record_id, field, value, value_hlc, value_node, winner_hlc, winner_node
                    FROM _history WHERE id > ? AND value_node != winner_node ORDER BY id LIMIT ?
                    """, arguments: [rowid, limit])
            var last = rowid
            var entries: [HistoryEntry] = []
            for row in rows {
                last = row["id"]
                guard let node = NodeID(rawValue: row["value_node"]), let winner = NodeID(rawValue: row["winner_node"])
                else { continue }
                entries.append(
                    HistoryEntry(
                        collection: row["collection"], recordID: row["record_id"], field: row["field"],
                        value: Value(row["value"] as DatabaseValue),
                        stamp: Stamp(hlc: HLCTimestamp(storage: row["value_hlc"]), node: node),
                        winner: Stamp(hlc: HLCTimestamp(storage: row["winner_hlc"]), node: winner)))
            }
            return (entries, last)
        }
    }

    /// Keeps conflicts another node relayed (a conflict already here is kept once). With `scope`, only
    /// those about records of that scope stored here are kept; the others are left out.
    @discardableResult
    public func recordRelayed(_ entries: [HistoryEntry], scope: String?) throws -> Int {
        do {
            return try writer.write { db in
                var kept = 0
                for entry in entries {
                    if let scope {
                        guard let index = schema.index(of: entry.collection),
                            let field = schema.collections[index].scopeField
                        else { continue }
                        let stored = try String.fetchOne(
                            db, sql: "SELECT \(quote(field)) FROM \(quote(entry.collection)) WHERE id = ?",
                            arguments: [entry.recordID])
                        guard stored == scope else { continue }
                    }
                    let value: (any DatabaseValueConvertible)? =
                        switch entry.value {
                        case .null: nil
                        case .integer(let number): number
                        case .real(let number): number
                        case .text(let text): text
                        }
                    try db.execute(
                        sql: """
                            INSERT OR IGNORE INTO _history(collection, record_id, field, value, value_hlc, value_node,
                                winner_hlc, winner_node) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                            """,
                        arguments: [
                            entry.collection, entry.recordID, entry.field, value, entry.stamp.hlc.storage,
                            entry.stamp.node.rawValue, entry.winner.hlc.storage, entry.winner.node.rawValue,
                        ])
                    kept += db.changesCount
                }
                return kept
            }
        } catch {
            throw Self.storageError(error)
        }
    }
}

import GRDB

/// Values that lost to a newer write, kept for the admin (`_history`).
extension WriteSession {
    func recordHistory(_ entry: HistoryEntry) throws {
        let statement = try replica.statements.statement(db, .init(kind: .history)) {
            """
            INSERT OR IGNORE INTO "_history"(collection, record_id, field, value, value_hlc, value_node, winner_hlc, winner_node)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
            """
        }
        statement.bind(entry.collection, at: 1)
        statement.bind(entry.recordID, at: 2)
        statement.bind(entry.field, at: 3)
        statement.bind(entry.value, at: 4)
        statement.bind(entry.stamp.hlc.storage, at: 5)
        statement.bind(entry.stamp.node.rawValue, at: 6)
        statement.bind(entry.winner.hlc.storage, at: 7)
        statement.bind(entry.winner.node.rawValue, at: 8)
        try statement.run()
        conflicts += Int(statement.changes)
    }
}

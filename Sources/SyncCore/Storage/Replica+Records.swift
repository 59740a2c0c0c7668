package import GRDB

extension Replica {
    /// The current fields of a record (known fields, and `_deleted` for profiles), or nil if absent.
    public func record(_ collection: String, id: String) throws -> [String: Value]? {
        let layout = try layout(collection)
        return try read { db in
            let statement = try SQLStatement(db, layout.selectSQL + " WHERE \"id\" = ?1")
            statement.bind(id, at: 1)
            guard try statement.step() else { return nil }
            var values: [String: Value] = [:]
            for (index, register) in layout.registers.enumerated() {
                values[register] = statement.value(layout.feedValueColumn(index))
            }
            for (name, extra) in try ExtraFields.decode(statement.text(2)) { values[name] = extra.v }
            return values
        }
    }

    /// The stamp of each register of a profile record (nil entries for registers never written).
    public func stamps(_ collection: String, id: String) throws -> [String: Stamp] {
        let layout = try layout(collection)
        return try read { db in
            let statement = try SQLStatement(db, layout.selectSQL + " WHERE \"id\" = ?1")
            statement.bind(id, at: 1)
            guard try statement.step() else { return [:] }
            var stamps: [String: Stamp] = [:]
            if layout.isProfile {
                for (index, entry) in try layout.decodeStamps(statement, column: 3).entries.enumerated() {
                    if let entry { stamps[layout.registers[index]] = entry.stamp }
                }
            } else if let node = NodeID(rawValue: statement.int64(4)) {
                let stamp = Stamp(hlc: HLCTimestamp(storage: statement.int64(3)), node: node)
                for register in layout.registers { stamps[register] = stamp }
            }
            for (name, extra) in try ExtraFields.decode(statement.text(2)) { stamps[name] = extra.stamp }
            return stamps
        }
    }

    /// Displaced values, oldest first; optionally of one collection or one record.
    public func history(collection: String? = nil, recordID: String? = nil) throws -> [HistoryEntry] {
        try read { db in
            var sql =
                "SELECT collection, record_id, field, value, value_hlc, value_node, winner_hlc, winner_node FROM _history"
            var conditions: [String] = []
            var arguments: [any DatabaseValueConvertible] = []
            if let collection { conditions.append("collection = ?"); arguments.append(collection) }
            if let recordID { conditions.append("record_id = ?"); arguments.append(recordID) }
            if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
            sql += " ORDER BY value_hlc, value_node, id"
            return try GRDB.Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)).compactMap { row in
                guard let node = NodeID(rawValue: row[5]), let winnerNode = NodeID(rawValue: row[7]) else { return nil }
                return HistoryEntry(
                    collection: row[0], recordID: row[1], field: row[2], value: Value(row[3] as DatabaseValue),
                    stamp: Stamp(hlc: HLCTimestamp(storage: row[4]), node: node),
                    winner: Stamp(hlc: HLCTimestamp(storage: row[6]), node: winnerNode))
            }
        }
    }
}

extension Value {
    /// A value as SQLite returned it (a BLOB, which no field holds, reads as null).
    package init(_ stored: DatabaseValue) {
        switch stored.storage {
        case .int64(let number): self = .integer(number)
        case .double(let number): self = .real(number)
        case .string(let text): self = .text(text)
        case .null, .blob: self = .null
        }
    }
}

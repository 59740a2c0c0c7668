package import GRDB

extension Replica {
    /// The current fields of a record (known fields, and `_deleted` for profiles), or nil if absent.
    public func record(_ collection: String, id: String) throws -> [String: Value]? {
        let layout = try layout(collection)
        return try read { db in try Self.record(db, layout, id: id) }
    }

    /// A record's current fields, read on `db`.
    static func record(_ db: Database, _ layout: TableLayout, id: String) throws -> [String: Value]? {
        let statement = try SQLStatement(cached: db, layout.selectSQL + " WHERE \"id\" = ?1")
        statement.bind(id, at: 1)
        defer { statement.reset() }
        guard try statement.step() else { return nil }
        return try values(statement, layout)
    }

    /// The fields of the row a `selectSQL` statement stands on.
    static func values(_ statement: SQLStatement, _ layout: TableLayout) throws -> [String: Value] {
        var values: [String: Value] = [:]
        for (index, register) in layout.registers.enumerated() {
            values[register] = statement.value(layout.feedValueColumn(index))
        }
        for (name, extra) in try ExtraFields.decode(statement.text(2)) { values[name] = extra.v }
        return values
    }

    /// Records not deleted, in id order, up to `limit`, read on `db`.
    static func records(
        _ db: Database, _ layout: TableLayout, limit: Int
    ) throws -> [(
        id: String, values: [String: Value]
    )] {
        let live = layout.isProfile ? " WHERE \"_deleted\" IS NULL" : ""
        let statement = try SQLStatement(cached: db, layout.selectSQL + live + " ORDER BY \"id\" LIMIT ?1")
        statement.bind(Int64(limit), at: 1)
        defer { statement.reset() }
        var rows: [(id: String, values: [String: Value])] = []
        while try statement.step() { rows.append((statement.text(0) ?? "", try values(statement, layout))) }
        return rows
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

/// The records a write session sees (its own writes included), for the schema's rules.
///
/// Reads are kept for the session until it writes their collection: a push of 1,000 deliveries reads
/// the catalogue once, not 1,000 times (R6: the rules halved the push rate before).
struct TransactionRecords: RecordSource {
    let session: WriteSession

    func record(_ collection: String, id: String) throws -> [String: Value]? {
        let key = RuleReads.Key(collection: collection, id: id, limit: nil)
        if let cached = session.ruleReads.records[key] { return cached.first?.values }
        let layout = try session.replica.layout(collection)
        var found: [(id: String, values: [String: Value])] = []
        if let values = try Replica.record(session.db, layout, id: id), values["_deleted"] != .integer(1) {
            found = [(id, values)]
        }
        session.ruleReads.keep(key, found)
        return found.first?.values
    }

    func records(_ collection: String, limit: Int) throws -> [(id: String, values: [String: Value])] {
        let key = RuleReads.Key(collection: collection, id: nil, limit: limit)
        if let cached = session.ruleReads.records[key] { return cached }
        let found = try Replica.records(session.db, try session.replica.layout(collection), limit: limit)
        session.ruleReads.keep(key, found)
        return found
    }
}

/// What a write session's rules read, until the session writes the collection read.
struct RuleReads {
    struct Key: Hashable {
        var collection: String
        var id: String?
        var limit: Int?
    }

    private(set) var records: [Key: [(id: String, values: [String: Value])]] = [:]
    private var collections: Set<String> = []

    mutating func keep(_ key: Key, _ found: [(id: String, values: [String: Value])]) {
        records[key] = found
        collections.insert(key.collection)
    }

    /// Forgets every read once `collection`, which a rule read, is written.
    mutating func written(_ collection: String) {
        guard collections.contains(collection) else { return }
        records = [:]
        collections = []
    }
}

extension Replica {
    /// Reads records for rules and reports, outside a write (a snapshot per call).
    public var records: any RecordSource { ReplicaRecords(replica: self) }
}

private struct ReplicaRecords: RecordSource {
    let replica: Replica

    func record(_ collection: String, id: String) throws -> [String: Value]? {
        guard let values = try replica.record(collection, id: id), values["_deleted"] != .integer(1) else { return nil }
        return values
    }

    func records(_ collection: String, limit: Int) throws -> [(id: String, values: [String: Value])] {
        let layout = try replica.layout(collection)
        return try replica.read { db in try Replica.records(db, layout, limit: limit) }
    }
}

package import GRDB

/// Reads for tables a node keeps beside the replica's and in step with a collection (the domain's index of
/// families, decision record 0019): what changed after a local sequence, on a connection of ``Replica/database``.
extension Replica {
    /// The records of profile collection `collection` whose last change is after local sequence `seq`, deleted ones
    /// included (`_deleted` set), in the order of their last change, with its sequence; read on `db`.
    package func changedRecords(
        _ db: Database, _ collection: String, after seq: Int64
    ) throws -> [(id: String, seq: Int64, values: [String: Value])] {
        let layout = try layout(collection)
        guard layout.isProfile else {
            throw SyncError(.invalidBatch, "'\(collection)' is not a profile collection.")
        }
        let statement = try SQLStatement(db, layout.selectSQL + " WHERE \"_seq\" > ?1 ORDER BY \"_seq\"")
        statement.bind(seq, at: 1)
        var rows: [(id: String, seq: Int64, values: [String: Value])] = []
        while try statement.step() {
            rows.append((statement.text(0) ?? "", statement.int64(1), try Self.values(statement, layout)))
        }
        return rows
    }

    /// The records of `collection` that left this replica after local sequence `seq` (moved to another scope, or
    /// set aside as refused): their rows are gone, the departure keeps their id and its own sequence.
    package func departures(_ db: Database, _ collection: String, after seq: Int64) throws -> [(id: String, seq: Int64)]
    {
        try Row.fetchAll(
            db, sql: "SELECT record_id, seq FROM _departures WHERE seq > ? AND collection = ? ORDER BY seq",
            arguments: [seq, collection]
        ).map { ($0[0], $0[1]) }
    }

    /// A record's current fields (and `_deleted` for profiles), read on `db`; nil when there is no row.
    package func record(_ db: Database, _ collection: String, id: String) throws -> [String: Value]? {
        try Self.record(db, try layout(collection), id: id)
    }
}

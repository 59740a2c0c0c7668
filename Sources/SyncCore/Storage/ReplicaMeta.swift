import GRDB

/// The replica's own bookkeeping in `_meta`: node id, clock, sequence.
enum ReplicaMeta {
    enum Key: String {
        case nodeID = "node_id"
        /// The greatest HLC issued or observed (raw value).
        case clock = "hlc"
        /// The local sequence of the last change applied.
        case sequence = "seq"
    }

    static func int(_ db: Database, _ key: Key) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT value FROM _meta WHERE key = ?", arguments: [key.rawValue])
    }

    static func set(_ db: Database, _ key: Key, _ value: Int64) throws {
        try db.execute(
            sql: "INSERT INTO _meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            arguments: [key.rawValue, value])
    }

    /// The replica's node id, chosen (proposed or random) and stored when the replica is created.
    static func nodeID(_ db: Database, proposed: NodeID?) throws -> NodeID {
        if let raw = try int(db, .nodeID) {
            guard let id = NodeID(rawValue: raw) else {
                throw SyncError(.corruptReplica, "The replica's node id is invalid (\(raw)).")
            }
            return id
        }
        let id = proposed ?? NodeID.random()
        try set(db, .nodeID, id.rawValue)
        return id
    }
}

/// The replica's tables: bookkeeping by migration, collections derived from the schema at each open.
enum ReplicaMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("1-core") { db in
            try db.execute(
                sql: """
                    CREATE TABLE _meta (key TEXT PRIMARY KEY NOT NULL, value ANY) STRICT;
                    CREATE TABLE _history (
                        id INTEGER PRIMARY KEY,
                        collection TEXT NOT NULL,
                        record_id TEXT NOT NULL,
                        field TEXT NOT NULL,
                        value,
                        value_hlc INTEGER NOT NULL,
                        value_node INTEGER NOT NULL,
                        winner_hlc INTEGER NOT NULL,
                        winner_node INTEGER NOT NULL,
                        UNIQUE (collection, record_id, field, value_hlc, value_node)
                    );
                    """)
        }
        return migrator
    }

    /// Creates missing tables, columns, indexes and triggers. A field added by a newer schema gets its
    /// columns, and the values an older version kept in `_extra` move into them.
    static func syncTables(_ db: Database, layouts: [TableLayout]) throws {
        for layout in layouts {
            if try db.tableExists(layout.name) {
                let existing = Set(try db.columns(in: layout.name).map(\.name))
                for column in layout.columns where !existing.contains(column.name) {
                    let type = column.type.replacingOccurrences(of: " NOT NULL", with: "")
                    try db.execute(sql: "ALTER TABLE \(layout.table) ADD COLUMN \(quote(column.name)) \(type)")
                }
                for (index, register) in layout.registers.enumerated() where !existing.contains(register) {
                    try promoteExtra(db, layout: layout, register: register, index: index)
                }
            } else {
                try db.execute(sql: layout.createTableSQL)
            }
            for sql in layout.createIndexSQL + ["DROP TRIGGER IF EXISTS \(quote(layout.name + "_history"))"] {
                try db.execute(sql: sql)
            }
        }
    }

    private static func promoteExtra(_ db: Database, layout: TableLayout, register: String, index: Int) throws {
        let path = literal("$." + register)
        let value = "json_extract(\"_extra\", \(literal("$." + register + ".v")))"
        var sets = ["\(quote(register)) = \(value)"]
        if layout.isProfile {
            for (suffix, key) in [("_hlc", "h"), ("_node", "n"), ("_seq", "s")] {
                sets.append(
                    "\(quote(register + suffix)) = json_extract(\"_extra\", \(literal("$." + register + "." + key)))")
            }
        }
        sets.append("\"_extra\" = nullif(json_remove(\"_extra\", \(path)), '{}')")
        try db.execute(
            sql:
                "UPDATE \(layout.table) SET \(sets.joined(separator: ", ")) WHERE json_type(\"_extra\", \(path)) IS NOT NULL"
        )
    }
}

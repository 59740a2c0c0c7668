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

    /// Creates missing tables, columns and indexes, and returns the layouts of the tables as they are. A
    /// field added by a newer schema gets its column, and the values an older version kept in `_extra`
    /// move into it.
    static func syncTables(_ db: Database, schema: Schema) throws -> [TableLayout] {
        var layouts: [TableLayout] = []
        for (index, collection) in schema.collections.enumerated() {
            let draft = TableLayout(collection, index: index)
            var added: [Int] = []
            if try db.tableExists(draft.name) {
                let existing = Set(try db.columns(in: draft.name).map(\.name))
                for column in draft.columns where !existing.contains(column.name) {
                    let type = column.type.replacingOccurrences(of: " NOT NULL", with: "")
                    try db.execute(sql: "ALTER TABLE \(draft.table) ADD COLUMN \(quote(column.name)) \(type)")
                }
                added = draft.registers.indices.filter { !existing.contains(draft.registers[$0]) }
            } else {
                try db.execute(sql: draft.createTableSQL)
            }
            for sql in draft.createIndexSQL { try db.execute(sql: sql) }
            let positions = Dictionary(
                try db.columns(in: draft.name).enumerated().map { ($1.name, $0) },
                uniquingKeysWith: { first, _ in first })
            let layout = TableLayout(collection, index: index, columnPositions: positions)
            guard !layout.isProfile || layout.slots.allSatisfy({ $0 < 128 }) else {
                throw SyncError(.schema, "Collection '\(layout.name)' has more columns than a profile can hold (128).")
            }
            for register in added { try promoteExtra(db, layout: layout, register: register) }
            layouts.append(layout)
        }
        return layouts
    }

    /// Moves the values an older version kept in `_extra` under `register`'s name into its column.
    private static func promoteExtra(_ db: Database, layout: TableLayout, register: Int) throws {
        let name = layout.registers[register]
        let select = try SQLStatement(
            db,
            "SELECT \"id\", \"_extra\"\(layout.isProfile ? ", \"_stamps\"" : "") FROM \(layout.table) "
                + "WHERE json_type(\"_extra\", \(literal("$." + name))) IS NOT NULL")
        var rows: [(id: String, extra: [String: ExtraCell], stamps: RegisterStamps?)] = []
        while try select.step() {
            rows.append(
                (
                    select.text(0) ?? "", try ExtraFields.decode(select.text(1)),
                    layout.isProfile ? try layout.decodeStamps(select, column: 2) : nil
                ))
        }
        select.reset()
        let update = try SQLStatement(
            db,
            "UPDATE \(layout.table) SET \(quote(name)) = ?2, \"_extra\" = ?3"
                + (layout.isProfile ? ", \"_stamps\" = ?4" : "") + " WHERE \"id\" = ?1")
        for var row in rows {
            guard let cell = row.extra.removeValue(forKey: name) else { continue }
            update.bind(row.id, at: 1)
            update.bind(cell.v, at: 2)
            if let json = ExtraFields.encode(row.extra) { update.bind(json, at: 3) } else { update.bindNull(at: 3) }
            if var stamps = row.stamps {
                if let stamp = cell.stamp { stamps.entries[register] = .init(stamp: stamp, sequence: cell.s ?? 0) }
                update.bind(bytes: stamps.encoded(slots: layout.slots), at: 4)
            }
            try update.run()
        }
    }
}

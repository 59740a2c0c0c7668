import GRDB

/// The replica's own bookkeeping in `_meta`: node id, clock, sequence.
enum ReplicaMeta {
    enum Key: String {
        case nodeID = "node_id"
        /// The greatest HLC issued or observed (raw value).
        case clock = "hlc"
        /// The local sequence of the last change applied.
        case sequence = "seq"
        /// Milliseconds to add to the wall clock (learnt from a server when this node's clock is wrong).
        case clockOffset = "clock_offset"
        /// The node id this replica had before a server found it duplicated.
        case previousNodeID = "previous_node_id"
    }

    static func int(_ db: Database, _ key: Key) throws -> Int64? {
        // On every feed page and sync step: a statement prepared once per connection.
        let statement = try SQLStatement(cached: db, "SELECT value FROM _meta WHERE key = ?1")
        statement.bind(key.rawValue, at: 1)
        defer { statement.reset() }
        return try statement.step() ? statement.optionalInt64(0) : nil
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
        migrator.registerMigration("2-peers") { db in
            try db.execute(
                sql: """
                    CREATE TABLE _peers (
                        peer TEXT PRIMARY KEY NOT NULL,
                        pushed TEXT NOT NULL DEFAULT '0',
                        pulled TEXT NOT NULL DEFAULT '0',
                        last_sync_ms INTEGER,
                        last_error TEXT
                    );
                    CREATE TABLE _echo (
                        peer TEXT NOT NULL,
                        lo INTEGER NOT NULL,
                        hi INTEGER NOT NULL,
                        PRIMARY KEY (peer, lo)
                    ) WITHOUT ROWID;
                    CREATE TABLE _heartbeats (
                        node TEXT PRIMARY KEY NOT NULL,
                        role TEXT NOT NULL,
                        city TEXT,
                        name TEXT NOT NULL,
                        app TEXT,
                        backlog INTEGER NOT NULL DEFAULT 0,
                        oldest_pending_ms INTEGER,
                        last_error TEXT,
                        clock_offset_ms INTEGER NOT NULL DEFAULT 0,
                        last_seen_ms INTEGER NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("3-settings") { db in
            try db.execute(sql: "CREATE TABLE IF NOT EXISTS _settings (key TEXT PRIMARY KEY NOT NULL, value TEXT)")
        }
        migrator.registerMigration("4-heartbeat-via") { db in
            // The hub a relayed status came through (nil: the client synced here itself).
            try db.execute(sql: "ALTER TABLE _heartbeats ADD COLUMN via TEXT")
        }
        migrator.registerMigration("5-leases") { db in
            // A client's push lease with each server (see `Lease`).
            try db.execute(sql: "ALTER TABLE _peers ADD COLUMN lease INTEGER")
            try db.execute(sql: "ALTER TABLE _peers ADD COLUMN lease_next INTEGER")
            // A server's view of each client node's lease: current, its last moves ("previous:next,…"),
            // and when two copies of the node were seen.
            try db.execute(
                sql: """
                    CREATE TABLE _leases (
                        node TEXT PRIMARY KEY NOT NULL,
                        lease INTEGER,
                        moves TEXT,
                        duplicate_ms INTEGER
                    )
                    """)
        }
        migrator.registerMigration("6-lease-window") { db in
            // The move of a request sent while the one before it is unanswered (see `Lease`).
            try db.execute(sql: "ALTER TABLE _peers ADD COLUMN lease_then INTEGER")
        }
        migrator.registerMigration("7-refused") { db in
            // Records this node would not apply from a client, or that its server would not take from it
            // (see `Refusal`): kept for the admin, one row per version of a record (its stamp).
            try db.execute(
                sql: """
                    CREATE TABLE _refused (
                        id INTEGER PRIMARY KEY,
                        collection TEXT NOT NULL,
                        record_id TEXT NOT NULL,
                        code TEXT NOT NULL,
                        field TEXT,
                        detail TEXT NOT NULL,
                        record TEXT,
                        hlc INTEGER NOT NULL,
                        node INTEGER NOT NULL,
                        source TEXT,
                        at_ms INTEGER NOT NULL,
                        status TEXT NOT NULL DEFAULT 'open',
                        UNIQUE (collection, record_id, hlc, node)
                    );
                    CREATE INDEX _refused_by_source ON _refused(source, status);
                    """)
        }
        migrator.registerMigration("8-departures") { db in
            // Records that left a scope (a family moved city, or a record this node's server refused), at the
            // sequence of the move: a scoped feed names them to the readers of the old scope, which keep no
            // live copy; a refusal's code, field and detail go with it.
            try db.execute(
                sql: """
                    CREATE TABLE _departures (
                        seq INTEGER PRIMARY KEY,
                        collection TEXT NOT NULL,
                        record_id TEXT NOT NULL,
                        scope TEXT NOT NULL,
                        code TEXT,
                        field TEXT,
                        detail TEXT
                    );
                    CREATE INDEX _departures_by_scope ON _departures(scope, seq);
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
            if try db.tableExists(draft.name) {
                let existing = Set(try db.columns(in: draft.name).map(\.name))
                for column in draft.columns where !existing.contains(column.name) {
                    let type = column.type.replacingOccurrences(of: " NOT NULL", with: "")
                    try db.execute(sql: "ALTER TABLE \(draft.table) ADD COLUMN \(quote(column.name)) \(type)")
                }
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
            try promoteExtras(db, layout: layout)
            layouts.append(layout)
        }
        return layouts
    }

    /// Moves values kept in `_extra` under the name of one of this layout's registers into their column:
    /// values an older version kept for a field this one declares (an upgrade, or files shared by two
    /// versions). For profiles the newer stamp wins, as in any merge.
    private static func promoteExtras(_ db: Database, layout: TableLayout) throws {
        let select = try SQLStatement(
            db,
            "SELECT \"id\", \"_extra\"\(layout.isProfile ? ", \"_stamps\"" : "") FROM \(layout.table) "
                + "WHERE \"_extra\" IS NOT NULL")
        var rows: [(id: String, extra: [String: ExtraCell], stamps: RegisterStamps?)] = []
        while try select.step() {
            let extra = try ExtraFields.decode(select.text(1))
            guard extra.keys.contains(where: { layout.registerIndex($0) != nil }) else { continue }
            rows.append(
                (select.text(0) ?? "", extra, layout.isProfile ? try layout.decodeStamps(select, column: 2) : nil))
        }
        select.reset()
        for var row in rows {
            var sets: [String] = []
            var values: [Value] = []
            for (name, cell) in row.extra {
                guard let register = layout.registerIndex(name) else { continue }
                row.extra.removeValue(forKey: name)
                if var stamps = row.stamps {
                    guard let stamp = cell.stamp,
                        FieldMerge.decide(local: stamps.entries[register]?.stamp, remote: stamp) == .takeRemote
                    else { continue }
                    stamps.entries[register] = .init(stamp: stamp, sequence: cell.s ?? 0)
                    row.stamps = stamps
                }
                sets.append(quote(name))
                values.append(cell.v)
            }
            var assignments = sets.enumerated().map { "\($1) = ?\($0 + 4)" }
            assignments.append("\"_extra\" = ?2")
            if layout.isProfile { assignments.append("\"_stamps\" = ?3") }
            let update = try SQLStatement(
                db, "UPDATE \(layout.table) SET \(assignments.joined(separator: ", ")) WHERE \"id\" = ?1")
            update.bind(row.id, at: 1)
            if let json = ExtraFields.encode(row.extra) { update.bind(json, at: 2) }
            if let stamps = row.stamps { update.bind(bytes: stamps.encoded(slots: layout.slots), at: 3) }
            for (index, value) in values.enumerated() { update.bind(value, at: Int32(index + 4)) }
            try update.run()
        }
    }
}

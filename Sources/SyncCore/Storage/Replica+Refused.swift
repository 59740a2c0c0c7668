import GRDB

/// A refused record as kept in `_refused`, for the admin (the report, `field admin refused`) and the
/// volunteer (`field status`).
public struct RefusedEntry: Sendable, Equatable {
    public var id: Int64
    public var refusal: Refusal
    /// The record's fields as they were sent (or, on the node that wrote it, as it had them), as JSON.
    public var record: String?
    /// Who sent it: a peer key (`client:<node>`), or the server that refused this node's push.
    public var source: String?
    public var atMillis: Int64
    /// `open`, or `dropped` once the admin has dealt with it.
    public var status: String
}

extension WriteSession {
    /// Keeps the refused records of `batch` in `_refused`, each once per version (a push sent again
    /// refuses the same records again: no new rows).
    func keepRefused(_ refusals: ArraySlice<Refusal>, batch: ChangeBatch) throws {
        var wanted: [String: Set<String>] = [:]
        for refusal in refusals { wanted[refusal.collection, default: []].insert(refusal.id) }
        var found: [String: (record: RecordChange, fields: [String])] = [:]
        for group in batch.collections {
            guard let ids = wanted[group.name] else { continue }
            for record in group.records where ids.contains(record.id) {
                found[group.name + "\u{0}" + record.id] = (record, group.fields)
            }
        }
        let insert = try SQLStatement(cached: db, Replica.insertRefusedSQL)
        for refusal in refusals {
            let entry = found[refusal.collection + "\u{0}" + refusal.id]
            var json = JSONWriter(capacity: 256)
            if let entry { json.fields(of: entry.record, names: entry.fields) }
            try Replica.insertRefused(
                insert, refusal, record: entry == nil ? nil : String(decoding: json.bytes, as: UTF8.self),
                stamp: entry?.record.stamp, source: source, now: Int64(clamping: now))
        }
        // A client cannot fill the disk with refusals: past a bound of open ones, a push that adds more is
        // refused whole until the admin deals with them (counted after the insert: a push sent again adds none).
        let waiting =
            try Int.fetchOne(
                db, sql: "SELECT count(*) FROM _refused WHERE source IS ? AND status = 'open'", arguments: [source])
            ?? 0
        guard waiting <= Refusal.maxOpenPerSource else {
            throw SyncError(
                .tooLarge,
                "\(waiting) refused records of this client would wait for the admin (at most "
                    + "\(Refusal.maxOpenPerSource)); nothing of this push was applied. The admin lists them with "
                    + "'field admin refused list'.")
        }
    }
}

extension WriteSession {
    /// Marks the refusals of records this replica holds in the sender's scope once the whole push is
    /// merged (another record of the push may have created one), and returns them all.
    func markStaying() throws -> [Refusal] {
        for index in refusals.indices { refusals[index].stays = try holds(refusals[index]) }
        return refusals
    }

    /// Whether this replica holds `refusal`'s record as a profile in this session's scope (any scope for an
    /// admin's push): only a change of it was refused.
    func holds(_ refusal: Refusal) throws -> Bool {
        guard let layout = try? replica.layout(refusal.collection), layout.isProfile else { return false }
        let stored = try Row.fetchOne(
            db, sql: "SELECT * FROM \(layout.table) WHERE \"id\" = ?", arguments: [refusal.id])
        guard let stored else { return false }
        guard let scope, let field = layout.collection.scopeField else { return true }
        return stored.text(field) == scope
    }
}

extension Replica {
    /// One refused record, once per version (its stamp): a push sent again adds no row.
    fileprivate static let insertRefusedSQL = """
        INSERT OR IGNORE INTO _refused(collection, record_id, code, field, detail, record, hlc, node, source, at_ms)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
        """

    fileprivate static func insertRefused(
        _ insert: SQLStatement, _ refusal: Refusal, record: String?, stamp: Stamp?, source: String?, now: Int64
    ) throws {
        insert.bind(refusal.collection, at: 1)
        insert.bind(refusal.id, at: 2)
        insert.bind(refusal.code.rawValue, at: 3)
        insert.bind(refusal.field.map(Value.text) ?? .null, at: 4)
        insert.bind(refusal.detail, at: 5)
        insert.bind(record.map(Value.text) ?? .null, at: 6)
        insert.bind(stamp?.hlc.storage ?? 0, at: 7)
        insert.bind(stamp?.node.rawValue ?? 0, at: 8)
        insert.bind(source.map(Value.text) ?? .null, at: 9)
        insert.bind(now, at: 10)
        try insert.run()
    }

    /// Sets aside this node's records that `peer` refused (named in its answer): each is kept in
    /// `_refused` as this node had it and taken out of the live tables, so that nothing goes on editing
    /// or counting it, and nothing sends it again. Runs in the transaction that saves the answer's progress.
    /// Each is noted as a departure from its scope too, so that this node's own clients (a hub's devices,
    /// the one that made it among them) drop their copies.
    func setAside(_ refusals: [Refusal], peer: String, session: WriteSession) throws {
        let db = session.db
        let now = Int64(clamping: session.now)
        let insert = try SQLStatement(cached: db, Replica.insertRefusedSQL)
        for refusal in refusals {
            guard let layout = try? layout(refusal.collection) else { continue }
            // Only a change was refused: the record stays; a copy of it as it is here is kept aside.
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT * FROM \(layout.table) WHERE \"id\" = ?", arguments: [refusal.id])
            else { continue }
            var json = JSONWriter(capacity: 256)
            json.byte(UInt8(ascii: "{"))
            var first = true
            for register in layout.registers where row.hasColumn(register) {
                let value = Value(row[register] as DatabaseValue)
                if value == .null { continue }
                if !first { json.byte(UInt8(ascii: ",")) }
                first = false
                json.string(register)
                json.byte(UInt8(ascii: ":"))
                json.value(value)
            }
            json.byte(UInt8(ascii: "}"))
            // A version of the row: its last change here.
            let sequence = row.integer("_seq") ?? 0
            try Self.insertRefused(
                insert, refusal, record: String(decoding: json.bytes, as: UTF8.self),
                stamp: Stamp(hlc: HLCTimestamp(storage: sequence), node: nodeID), source: peer, now: now)
            if refusal.stays { continue }
            try db.execute(sql: "DELETE FROM \(layout.table) WHERE \"id\" = ?", arguments: [refusal.id])
            if let field = layout.collection.scopeField, let scope = row.text(field) {
                try session.recordDeparture(refusal.collection, id: refusal.id, from: scope, refusal: refusal)
            }
        }
    }

    /// The refused records kept here, newest first (`status` nil: all).
    public func refusedRecords(status: String? = "open", limit: Int = 10_000) throws -> [RefusedEntry] {
        do {
            return try read { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT * FROM _refused WHERE ?1 IS NULL OR status = ?1 ORDER BY at_ms DESC, id DESC LIMIT ?2
                        """,
                    arguments: [status, limit]
                ).map { row in
                    RefusedEntry(
                        id: row.integer("id") ?? 0,
                        refusal: Refusal(
                            collection: row.text("collection") ?? "?", id: row.text("record_id") ?? "?",
                            code: SyncError.Code(row.text("code") ?? "?"), field: row.text("field"),
                            detail: row.text("detail") ?? ""),
                        record: row.text("record"), source: row.text("source"), atMillis: row.integer("at_ms") ?? 0,
                        status: row.text("status") ?? "open")
                }
            }
        } catch {
            throw Self.storageError(error)
        }
    }

    /// Marks a refused record as dealt with (it stays in the file, out of the open list); returns whether
    /// it was open.
    @discardableResult
    public func dropRefused(_ id: Int64) throws -> Bool {
        do {
            return try writer.write { db in
                try db.execute(
                    sql: "UPDATE _refused SET status = 'dropped' WHERE id = ? AND status = 'open'", arguments: [id])
                return db.changesCount > 0
            }
        } catch {
            throw Self.storageError(error)
        }
    }
}

extension Replica {
    /// Deletes this node's copies of records that left its scope (its server said so), and notes each
    /// departure in its own feed, so that this node's own clients (a hub's devices) delete theirs.
    ///
    /// Nothing of them is kept: the record belongs to another city now, whose volunteers hold it, and a
    /// device holds only its city's families. An edit made here before the news is refused by the server
    /// (out of scope) and set aside like any refused record.
    ///
    /// A copy that holds a change of this node's not yet sent (`pushed`: the acknowledged push position) is
    /// kept in `_refused` first: that change never reaches a server that would refuse it, and is not lost.
    func forget(_ left: [RecordRef], pushed: Int64, peer: String, session: WriteSession) throws {
        for ref in left {
            guard let layout = try? layout(ref.collection), let field = layout.collection.scopeField else { continue }
            let row = try Row.fetchOne(
                session.db, sql: "SELECT * FROM \(layout.table) WHERE \"id\" = ?", arguments: [ref.id])
            guard let row, let scope = row.text(field) else { continue }
            if try Self.hasUnsentChange(row, layout: layout, pushed: pushed, session: session) {
                try setAside(
                    [
                        Refusal(
                            collection: ref.collection, id: ref.id, code: .outOfScope, field: field,
                            detail: "Record \(ref.id) of '\(ref.collection)' left \(scope) (the admin moved it) before "
                                + "this device's change of it was sent; the change is kept here for the admin.")
                    ], peer: peer, session: session)
                continue
            }
            try session.db.execute(sql: "DELETE FROM \(layout.table) WHERE \"id\" = ?", arguments: [ref.id])
            try session.recordDeparture(ref.collection, id: ref.id, from: scope)
        }
    }

    /// Whether `row` holds a write of this node after the push position `pushed` (not sent yet).
    private static func hasUnsentChange(
        _ row: Row, layout: TableLayout, pushed: Int64, session: WriteSession
    )
        throws -> Bool
    {
        guard (row.integer("_seq") ?? 0) > pushed else { return false }
        guard layout.isProfile else {
            return row.integer("_node").flatMap(NodeID.init(rawValue:)).map(session.isOwn) ?? false
        }
        guard case .blob(let data) = (row["_stamps"] as DatabaseValue).storage else { return false }
        let stamps = try data.withUnsafeBytes {
            try RegisterStamps(
                decoding: $0, registerForSlot: layout.registerForSlot, count: layout.registers.count)
        }
        return stamps.entries.contains { entry in
            guard let entry else { return false }
            return entry.sequence > pushed && session.isOwn(entry.stamp.node)
        }
    }
}

/// A record naming, in a reference field, a record this replica does not hold.
public struct DanglingReference: Sendable, Equatable {
    public var collection: String
    public var id: String
    public var field: String
    public var target: String

    public init(collection: String, id: String, field: String, target: String) {
        self.collection = collection
        self.id = id
        self.field = field
        self.target = target
    }
}

extension Replica {
    /// The references that name no record here: kept when they arrived (the record named may come
    /// later, through another node), reported until it does (a tombstoned record still counts as held).
    public func danglingReferences(limit: Int = 1000) throws -> [DanglingReference] {
        do {
            return try read { db in
                var found: [DanglingReference] = []
                for layout in layouts {
                    for field in layout.collection.fields {
                        guard let target = field.references, let targetLayout = try? self.layout(target) else {
                            continue
                        }
                        let rows = try Row.fetchAll(
                            db,
                            sql: """
                                SELECT r."id" AS id, r.\(quote(field.name)) AS target FROM \(layout.table) r
                                WHERE r.\(quote(field.name)) IS NOT NULL AND NOT EXISTS
                                    (SELECT 1 FROM \(targetLayout.table) t WHERE t."id" = r.\(quote(field.name)))
                                ORDER BY r."id" LIMIT ?
                                """, arguments: [limit - found.count])
                        for row in rows {
                            found.append(
                                DanglingReference(
                                    collection: layout.name, id: row.text("id") ?? "?", field: field.name,
                                    target: row.text("target") ?? "?"))
                        }
                        if found.count >= limit { return found }
                    }
                }
                return found
            }
        } catch {
            throw Self.storageError(error)
        }
    }
}

extension Replica {
    /// The admin accepts refused record `number` after all: its fields as kept are written here as a
    /// local write (stamped by this node, checked by the schema's rules like any write, not by the scope
    /// and reference checks a client's push meets: the admin decides), and it syncs out from here. A fact
    /// is inserted under its id; a profile is created, or its fields set when the record exists.
    /// Throws `.notFound` for a number that is not open, and the write's error (the row stays open) for
    /// values the rules refuse.
    @discardableResult
    public func acceptRefused(_ number: Int64) throws -> RecordRef {
        let entry = try refusedRecords(status: "open").first { $0.id == number }
        guard let entry, let text = entry.record else {
            throw SyncError(.notFound, "No open refused record #\(number) with its fields: 'field admin refused list'.")
        }
        var values: [String: Value] = [:]
        var reader = JSONReader(Array(text.utf8))
        try reader.object("a refused record's fields") { (reader, key) throws(SyncError) in
            values[key] = try reader.value("a field value")
        }
        let ref = RecordRef(collection: entry.refusal.collection, id: entry.refusal.id)
        let layout = try layout(ref.collection)
        // Fields this version knows; an empty value sets nothing.
        values = values.filter { layout.collection.fieldIndex[$0.key] != nil && !$0.value.isNull }
        try write { tx in
            if !layout.isProfile {
                try tx.insert(ref.collection, id: ref.id, values: values)
            } else if try record(ref.collection, id: ref.id, db: tx.session.db) {
                try tx.update(ref.collection, id: ref.id, values: values)
            } else {
                try tx.create(ref.collection, id: ref.id, values: values)
            }
            try tx.session.db.execute(
                sql: "UPDATE _refused SET status = 'accepted' WHERE id = ?", arguments: [number])
        }
        return ref
    }

    private func record(_ collection: String, id: String, db: Database) throws -> Bool {
        let layout = try layout(collection)
        return try Int.fetchOne(db, sql: "SELECT 1 FROM \(layout.table) WHERE \"id\" = ?", arguments: [id]) != nil
    }
}

import GRDB

/// One write transaction of a replica: its clock, its sequence, its prepared statements.
///
/// Created inside the transaction from `_meta` and written back to `_meta` before commit, so the clock
/// and the sequence never go backwards, across restarts and across processes sharing the file.
final class WriteSession {
    let db: Database
    let replica: Replica
    var clock: HybridLogicalClock
    private(set) var sequence: Int64
    var conflicts = 0
    /// When set (a device's or hub's push), every record merged must already lie in this scope if it
    /// exists here, and a new one must carry its scope field.
    var scope: String?
    /// Records come from a client (a server's apply): a new profile must carry its required fields, and
    /// references must stay in the record's scope. Refused records throw ``RefusedRecord``.
    var fromClient = false
    /// Local writes (a volunteer's or the admin's): checked against the schema's rules as a client's are.
    var isLocal = false
    /// What the schema's rules read in this session (``TransactionRecords``).
    var ruleReads = RuleReads()
    /// The records refused so far in this transaction (by the plan and by the merge).
    var refusals: [Refusal] = []
    /// Who sent the batch (a peer key), kept with its refused records.
    var source: String?
    /// The client of a push, and its token's role: what the rules know of a record's writer.
    var sender: NodeID?
    var role: Principal.Role?
    /// Added to the wall clock: see ``Replica/setClockOffset(_:)``.
    let clockOffset: Int64
    /// This node's id, read with the clock.
    let nodeID: NodeID
    /// The id it had before a server found that one duplicated: its writes under it are its own too.
    let previousNodeID: NodeID?

    /// Whether `node` is this node (under its id or its previous one).
    func isOwn(_ node: NodeID) -> Bool { node == nodeID || node == previousNodeID }
    /// Random bits for record ids: seeded once per transaction from the configuration's generator.
    var random: SplitMix64
    /// The random bits of this transaction's record ids. Its stamps never repeat, so neither do its ids;
    /// a node id duplicated by a restored backup can repeat a stamp, but not (but once in 2^24) with the
    /// same bits, drawn again for every transaction (decision record 0003).
    private lazy var idBits = random.next()
    /// The stamp of the last id made: a clock at its last millisecond repeats its stamp, and then the id
    /// takes the next bits (not bits drawn again: 500 draws of 24 bits meet once in 140 transactions).
    private var lastIDStamp: Stamp?

    init(db: Database, replica: Replica) throws {
        self.db = db
        self.replica = replica
        let read = try replica.statements.statement(db, .init(kind: .metaRead)) {
            """
            SELECT (SELECT value FROM _meta WHERE key = 'hlc'), (SELECT value FROM _meta WHERE key = 'seq'),
                (SELECT value FROM _meta WHERE key = 'clock_offset'), (SELECT value FROM _meta WHERE key = 'node_id'),
                (SELECT value FROM _meta WHERE key = 'previous_node_id')
            """
        }
        guard try read.step() else { throw SyncError(.corruptReplica, "The replica's _meta table cannot be read.") }
        let last = HLCTimestamp(storage: read.optionalInt64(0) ?? 0)
        self.clock = HybridLogicalClock(last: last, maxDriftMillis: replica.configuration.maxClockDriftMillis)
        self.sequence = read.optionalInt64(1) ?? 0
        self.clockOffset = read.optionalInt64(2) ?? 0
        // Read in the transaction: another process may have given the node a new id (a duplicated one).
        let stored = read.optionalInt64(3).flatMap(NodeID.init(rawValue:)) ?? replica.nodeID
        let previous = read.optionalInt64(4).flatMap(NodeID.init(rawValue:))
        read.reset()
        if stored != replica.nodeID { replica.node.value = stored }
        self.nodeID = stored
        self.previousNodeID = previous
        self.random = SplitMix64(seed: replica.configuration.random())
    }

    /// A new record id (see ``RecordID``).
    func newRecordID(stamp: Stamp) -> String {
        if stamp == lastIDStamp { idBits &+= 1 }
        lastIDStamp = stamp
        return RecordID.make(stamp: stamp, random: idBits)
    }

    /// Persists the clock and the sequence; call last, inside the transaction.
    func finish() throws {
        let write = try replica.statements.statement(db, .init(kind: .metaWrite)) {
            "INSERT INTO _meta(key, value) VALUES ('hlc', ?1), ('seq', ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value"
        }
        write.bind(clock.last.storage, at: 1)
        write.bind(sequence, at: 2)
        try write.run()
    }

    func nextSequence() -> Int64 {
        sequence += 1
        return sequence
    }

    var now: UInt64 { Replica.corrected(replica.configuration.clock.nowMillis(), by: clockOffset) }
    /// The clock remote stamps are checked against, when not ``now`` (a server's: see `Replica.apply`).
    var checkedAt: UInt64?

    /// A new stamp for a local write.
    func stamp() -> Stamp {
        Stamp(hlc: clock.tick(now: now), node: nodeID)
    }

    // MARK: Profiles

    /// Merges registers into a profile record: each register keeps the write with the greater stamp.
    ///
    /// `cells` gives register, value, stamp (each register at most once). The decision is
    /// ``FieldMerge/decide(local:remote:)``, made here on the row as stored; only winning registers are
    /// written. A value that loses, incoming or displaced, is kept in `_history` when the two writes come
    /// from different nodes (a conflict) or when it was written here (a node keeps all its own writes).
    /// Returns whether any register changed.
    @discardableResult
    func mergeProfile(
        _ layout: TableLayout, id: String, cells: [(register: Int, value: Value, stamp: Stamp)]
    ) throws
        -> Bool
    {
        let current = try cached(layout, .current) { layout.currentSQL }
        current.bind(id, at: 1)
        var active = true
        defer { if active { current.reset() } }
        let exists = try current.step()
        var recordScope: Value?
        if let register = layout.scopeRegister {
            recordScope =
                exists ? current.value(Int32(register)) : cells.first(where: { $0.register == register })?.value
        }
        if let scope, layout.scopeRegister != nil {
            if exists, recordScope != .text(scope) {
                throw Self.outOfScope(layout, id: id, value: recordScope ?? .null, scope: scope)
            } else if !exists, recordScope == nil {
                throw RefusedRecord(
                    refusal: .noScope(collection: layout.name, id: id, scopeField: layout.collection.scopeField))
            }
        }
        if fromClient {
            if !exists { try requireFields(layout, id: id, cells: cells) }
            for cell in cells {
                try checkReference(layout, id: id, register: cell.register, value: cell.value, scope: recordScope)
            }
        }
        var stamps =
            exists
            ? try layout.decodeStamps(current, column: Int32(layout.registers.count))
            : RegisterStamps(count: layout.registers.count)
        var mask: UInt64 = 0
        var kept: [HistoryEntry] = []
        for cell in cells {
            let stored = stamps.entries[cell.register]?.stamp
            switch FieldMerge.decide(local: stored, remote: cell.stamp) {
            case .takeRemote:
                mask |= 1 << UInt64(cell.register)
                if let stored, stored.node != cell.stamp.node || isOwn(stored.node) {
                    kept.append(
                        HistoryEntry(
                            collection: layout.name, recordID: id, field: layout.registers[cell.register],
                            value: current.value(Int32(cell.register)), stamp: stored, winner: cell.stamp))
                }
            case .keepLocal:
                if let stored, stored.node != cell.stamp.node {
                    kept.append(
                        HistoryEntry(
                            collection: layout.name, recordID: id, field: layout.registers[cell.register],
                            value: cell.value, stamp: cell.stamp, winner: stored))
                }
            case .same:
                break
            }
        }
        // A record leaving its scope (the admin moves a family): the old scope's readers are told.
        var departedFrom: Value?
        if exists, let register = layout.scopeRegister, mask & (1 << UInt64(register)) != 0,
            let cell = cells.first(where: { $0.register == register }), recordScope != cell.value
        {
            departedFrom = recordScope
        }
        // A tombstone is checked too (changed: `_deleted`): a rule may keep a record from being deleted.
        if mask != 0, let rules = ruleCheck(layout) {
            var values: [String: Value] = [:]
            if exists {
                for register in layout.collection.fields.indices {
                    values[layout.registers[register]] = current.value(Int32(register))
                }
            }
            var changed = Set<String>()
            var newest: Stamp?
            for cell in cells where mask & (1 << UInt64(cell.register)) != 0 {
                values[layout.registers[cell.register]] = cell.value
                changed.insert(layout.registers[cell.register])
                if newest.map({ cell.stamp > $0 }) ?? true { newest = cell.stamp }
            }
            current.reset()
            active = false
            try check(
                rules, layout, id: id, values: values, changed: changed, isNew: !exists, writer: newest.map(\.node))
        }
        if active { current.reset() }
        active = false
        for entry in kept { try recordHistory(entry) }
        guard mask != 0 else { return false }
        ruleReads.written(layout.name)
        let sequence = nextSequence()
        if case .text(let scope)? = departedFrom { try recordDeparture(layout.name, id: id, from: scope) }
        for cell in cells where mask & (1 << UInt64(cell.register)) != 0 {
            stamps.entries[cell.register] = RegisterStamps.Entry(stamp: cell.stamp, sequence: sequence)
        }
        let statement: SQLStatement
        if exists {
            statement = try replica.statements.statement(
                db, .init(kind: .updateProfile, collection: layout.collectionIndex, mask: mask)
            ) {
                layout.updateProfileSQL(
                    registers: (0..<layout.registers.count).filter { mask & (1 << UInt64($0)) != 0 })
            }
            for cell in cells where mask & (1 << UInt64(cell.register)) != 0 {
                let position = (mask & ((1 << UInt64(cell.register)) - 1)).nonzeroBitCount
                statement.bind(cell.value, at: Int32(4 + position))
            }
        } else {
            statement = try cached(layout, .insertProfile) { layout.insertProfileSQL }
            for cell in cells { statement.bind(cell.value, at: Int32(4 + cell.register)) }
        }
        statement.bind(id, at: 1)
        statement.bind(sequence, at: 2)
        statement.bind(bytes: stamps.encoded(slots: layout.slots), at: 3)
        try statement.run()
        return true
    }

    /// A statement of the writer connection's cache, for this collection.
    func cached(
        _ layout: TableLayout, _ kind: StatementCache.Key.Kind, _ sql: () -> String
    ) throws -> SQLStatement {
        try replica.statements.statement(db, .init(kind: kind, collection: layout.collectionIndex), sql)
    }

    /// Merges fields this schema does not know into the record's `_extra` (LWW per field).
    func mergeExtras(_ layout: TableLayout, id: String, extras: [(name: String, value: Value, stamp: Stamp)]) throws {
        if let scope, let field = layout.collection.scopeField {
            let lookup = try SQLStatement(db, "SELECT \(quote(field)) FROM \(layout.table) WHERE \"id\" = ?1")
            lookup.bind(id, at: 1)
            let stored: Value = try lookup.step() ? lookup.value(0) : .null
            lookup.reset()
            if stored == .null {
                throw RefusedRecord(refusal: .noScope(collection: layout.name, id: id, scopeField: field))
            }
            if stored != .text(scope) { throw Self.outOfScope(layout, id: id, value: stored, scope: scope) }
        }
        ruleReads.written(layout.name)
        let ensure = try cached(layout, .ensureRow) { layout.ensureRowSQL }
        ensure.bind(id, at: 1)
        ensure.bind(sequence, at: 2)
        try ensure.run()
        let select = try cached(layout, .selectExtra) { "SELECT \"_extra\" FROM \(layout.table) WHERE \"id\" = ?1" }
        select.bind(id, at: 1)
        let existing = try select.step() ? select.text(0) : nil
        select.reset()
        var cells = try ExtraFields.decode(existing)
        let seq = nextSequence()
        var changed = false
        for extra in extras {
            let local = cells[extra.name]
            switch FieldMerge.decide(local: local?.stamp, remote: extra.stamp) {
            case .takeRemote:
                if let local, let localStamp = local.stamp,
                    localStamp.node != extra.stamp.node || isOwn(localStamp.node)
                {
                    try recordHistory(
                        HistoryEntry(
                            collection: layout.name, recordID: id, field: extra.name, value: local.v, stamp: localStamp,
                            winner: extra.stamp))
                }
                cells[extra.name] = ExtraCell(
                    v: extra.value, h: extra.stamp.hlc.storage, n: extra.stamp.node.rawValue, s: seq)
                changed = true
            case .keepLocal:
                let winner = local!.stamp!
                if winner.node != extra.stamp.node {
                    try recordHistory(
                        HistoryEntry(
                            collection: layout.name, recordID: id, field: extra.name, value: extra.value,
                            stamp: extra.stamp,
                            winner: winner))
                }
            case .same:
                break
            }
        }
        guard changed else { return }
        let update = try cached(layout, .updateExtra) {
            "UPDATE \(layout.table) SET \"_extra\" = ?1, \"_seq\" = ?2 WHERE \"id\" = ?3"
        }
        if let json = ExtraFields.encode(cells) { update.bind(json, at: 1) }
        update.bind(seq, at: 2)
        update.bind(id, at: 3)
        try update.run()
    }
}

extension Replica {
    /// Runs `body` in one immediate write transaction with a fresh session; commits or rolls back whole.
    func withSession<T>(_ body: (WriteSession) throws -> T) throws -> T {
        do {
            return try writer.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    let session = try WriteSession(db: db, replica: self)
                    result = try body(session)
                    try session.finish()
                    return .commit
                }
                return result!
            }
        } catch {
            throw Self.storageError(error)
        }
    }
}

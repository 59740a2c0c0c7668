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
    private var upserts: [Int: [UInt64: SQLStatement]] = [:]
    private var factInserts: [Int: SQLStatement] = [:]
    private var localFactInserts: [Int: SQLStatement] = [:]
    private var historyInsert: SQLStatement?
    private(set) var conflicts = 0

    init(db: Database, replica: Replica) throws {
        self.db = db
        self.replica = replica
        let last = HLCTimestamp(storage: try ReplicaMeta.int(db, .clock) ?? 0)
        self.clock = HybridLogicalClock(last: last, maxDriftMillis: replica.configuration.maxClockDriftMillis)
        self.sequence = try ReplicaMeta.int(db, .sequence) ?? 0
    }

    /// Persists the clock and the sequence; call last, inside the transaction.
    func finish() throws {
        try ReplicaMeta.set(db, .clock, clock.last.storage)
        try ReplicaMeta.set(db, .sequence, sequence)
    }

    func nextSequence() -> Int64 {
        sequence += 1
        return sequence
    }

    var now: UInt64 { replica.configuration.clock.nowMillis() }

    /// A new stamp for a local write.
    func stamp() -> Stamp {
        Stamp(hlc: clock.tick(now: now), node: replica.nodeID)
    }

    // MARK: Profiles

    /// Merges registers into a profile record (LWW per register).
    ///
    /// `mask` has bit `r` set for each register in `cells`; `cells` gives register, value, stamp.
    /// Incoming values that lose are kept in `_history`; local values they displace are kept there by
    /// the table's trigger.
    func upsertProfile(
        _ layout: TableLayout, id: String, mask: UInt64, cells: some Sequence<(register: Int, value: Value, stamp: Stamp)>
    ) throws {
        let statement = try upsertStatement(layout, mask: mask)
        let seq = nextSequence()
        statement.bind(id, at: 1)
        statement.bind(seq, at: 2)
        for cell in cells {
            let position = Int32((mask & ((1 << UInt64(cell.register)) - 1)).nonzeroBitCount)
            let base = 3 + position * 3
            statement.bind(cell.value, at: base)
            statement.bind(cell.stamp.hlc.storage, at: base + 1)
            statement.bind(cell.stamp.node.rawValue, at: base + 2)
        }
        if mask != 0, try statement.step() {
            for cell in cells {
                let position = Int32((mask & ((1 << UInt64(cell.register)) - 1)).nonzeroBitCount)
                let hlc = statement.int64(position * 2)
                let node = statement.int64(position * 2 + 1)
                if hlc != cell.stamp.hlc.storage || node != cell.stamp.node.rawValue {
                    try recordHistory(
                        layout.name, id, layout.registers[cell.register], cell.value, loser: cell.stamp,
                        winnerHLC: hlc, winnerNode: node)
                }
            }
            while try statement.step() {}
        } else {
            while try statement.step() {}
        }
        statement.reset()
    }

    private func upsertStatement(_ layout: TableLayout, mask: UInt64) throws -> SQLStatement {
        if let statement = upserts[layout.collectionIndex]?[mask] { return statement }
        let registers = (0..<layout.registers.count).filter { mask & (1 << UInt64($0)) != 0 }
        let statement = try SQLStatement(db, layout.upsertSQL(registers: registers))
        upserts[layout.collectionIndex, default: [:]][mask] = statement
        return statement
    }

    /// Merges fields this schema does not know into the record's `_extra` (LWW per field).
    func mergeExtras(_ layout: TableLayout, id: String, extras: [(name: String, value: Value, stamp: Stamp)]) throws {
        let select = try SQLStatement(db, "SELECT \"_extra\" FROM \(layout.table) WHERE \"id\" = ?1")
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
                if let local, let localStamp = local.stamp {
                    try recordHistory(
                        layout.name, id, extra.name, local.v, loser: localStamp,
                        winnerHLC: extra.stamp.hlc.storage, winnerNode: extra.stamp.node.rawValue)
                }
                cells[extra.name] = ExtraCell(
                    v: extra.value, h: extra.stamp.hlc.storage, n: extra.stamp.node.rawValue, s: seq)
                changed = true
            case .keepLocal:
                let winner = local!.stamp!
                try recordHistory(
                    layout.name, id, extra.name, extra.value, loser: extra.stamp,
                    winnerHLC: winner.hlc.storage, winnerNode: winner.node.rawValue)
            case .same:
                break
            }
        }
        guard changed else { return }
        let update = try SQLStatement(db, "UPDATE \(layout.table) SET \"_extra\" = ?1, \"_seq\" = ?2 WHERE \"id\" = ?3")
        if let json = ExtraFields.encode(cells) { update.bind(json, at: 1) }
        update.bind(seq, at: 2)
        update.bind(id, at: 3)
        try update.run()
    }

    // MARK: Facts

    /// Inserts a fact. Remote facts merge by set union (an existing id is left alone); a local insert of
    /// an existing id throws `.duplicate`. Returns whether the fact was new.
    @discardableResult
    func insertFact(
        _ layout: TableLayout, id: String, stamp: Stamp, values: some Sequence<(register: Int, value: Value)>,
        extras: [String: ExtraCell], local: Bool
    ) throws -> Bool {
        let statement: SQLStatement
        if local, let cached = localFactInserts[layout.collectionIndex] {
            statement = cached
        } else if !local, let cached = factInserts[layout.collectionIndex] {
            statement = cached
        } else {
            statement = try SQLStatement(db, layout.insertFactSQL(ignoringDuplicates: !local))
            if local { localFactInserts[layout.collectionIndex] = statement } else { factInserts[layout.collectionIndex] = statement }
        }
        let count = Int32(layout.registers.count)
        statement.bind(id, at: 1)
        for cell in values { statement.bind(cell.value, at: 2 + Int32(cell.register)) }
        statement.bind(stamp.hlc.storage, at: count + 2)
        statement.bind(stamp.node.rawValue, at: count + 3)
        statement.bind(nextSequence(), at: count + 4)
        if let json = ExtraFields.encode(extras) { statement.bind(json, at: count + 5) }
        do {
            try statement.run()
        } catch let error as DatabaseError where local && error.resultCode == .SQLITE_CONSTRAINT {
            throw SyncError(.duplicate, "A \(layout.name) record with id \(id) already exists.")
        }
        return statement.changes > 0
    }

    // MARK: History

    func recordHistory(
        _ collection: String, _ id: String, _ field: String, _ value: Value, loser: Stamp, winnerHLC: Int64,
        winnerNode: Int64
    ) throws {
        let statement: SQLStatement
        if let historyInsert {
            statement = historyInsert
        } else {
            statement = try SQLStatement(
                db,
                """
                INSERT OR IGNORE INTO "_history"(collection, record_id, field, value, value_hlc, value_node, winner_hlc, winner_node)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                """)
            historyInsert = statement
        }
        statement.bind(collection, at: 1)
        statement.bind(id, at: 2)
        statement.bind(field, at: 3)
        statement.bind(value, at: 4)
        statement.bind(loser.hlc.storage, at: 5)
        statement.bind(loser.node.rawValue, at: 6)
        statement.bind(winnerHLC, at: 7)
        statement.bind(winnerNode, at: 8)
        try statement.run()
        conflicts += Int(statement.changes)
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

import GRDB

/// What this replica knows of one peer it syncs with.
public struct PeerState: Sendable, Equatable {
    /// The peer's key: `"server:<node>"` on a client, `"client:<node>"` on a server.
    public var peer: String
    /// How far our feed has been pushed to the peer and acknowledged.
    public var pushed: FeedCursor
    /// How far the peer's feed has been pulled and applied here.
    public var pulled: FeedCursor
    /// When the last sync with the peer ended well (Unix ms of this node's corrected clock).
    public var lastSyncMillis: Int64?
    /// Why the last sync with the peer failed, if it did.
    public var lastError: String?
    /// The push lease this node holds with the peer, the one its unacknowledged request moves to, and
    /// the one the request sent behind that one moves to (a window of two).
    public var lease: UInt64?
    public var leaseNext: UInt64?
    public var leaseThen: UInt64?
}

/// Cursors to save in the same transaction as an apply: a crash leaves both or neither.
public struct PeerProgress: Sendable {
    public var pushed: FeedCursor?
    public var pulled: FeedCursor?
    /// The lease the server acknowledged with this answer (it becomes current unless a newer one is pending).
    public var lease: UInt64?
    /// Records of this node the server refused in this answer: set aside (see `Replica.setAside`).
    public var refused: [Refusal]
    /// Records that left this node's scope in the pulled page: deleted here (see `Replica.forget`).
    public var left: [RecordRef]

    public init(
        pushed: FeedCursor? = nil, pulled: FeedCursor? = nil, lease: UInt64? = nil, refused: [Refusal] = [],
        left: [RecordRef] = []
    ) {
        self.pushed = pushed
        self.pulled = pulled
        self.lease = lease
        self.refused = refused
        self.left = left
    }
}

extension Replica {
    /// The state of the sync with `peer` (a new peer starts at the beginning of both feeds).
    public func peerState(_ peer: String) throws -> PeerState {
        try read { db in
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT pushed, pulled, last_sync_ms, last_error, lease, lease_next, lease_then FROM _peers
                    WHERE peer = ?
                    """,
                arguments: [peer])
            func cursor(_ text: String?) throws -> FeedCursor {
                guard let text else { return .start }
                guard let cursor = FeedCursor(text) else {
                    throw SyncError(.corruptReplica, "The saved sync position '\(text)' with \(peer) is damaged.")
                }
                return cursor
            }
            return PeerState(
                peer: peer, pushed: try cursor(row?["pushed"]), pulled: try cursor(row?["pulled"]),
                lastSyncMillis: row?["last_sync_ms"], lastError: row?["last_error"],
                lease: (row?["lease"] as Int64?).map { UInt64(bitPattern: $0) },
                leaseNext: (row?["lease_next"] as Int64?).map { UInt64(bitPattern: $0) },
                leaseThen: (row?["lease_then"] as Int64?).map { UInt64(bitPattern: $0) })
        }
    }

    /// The local sequences at which changes from `peer` were applied, after `base` (the rest are read
    /// by no feed any more).
    public func echoRanges(from peer: String, after base: Int64 = 0) throws -> SequenceRanges {
        try read { db in SequenceRanges(try Self.echoRanges(db, peer: peer, after: base)) }
    }

    static func echoRanges(_ db: Database, peer: String, after base: Int64) throws -> [ClosedRange<Int64>] {
        let statement = try SQLStatement(
            cached: db, "SELECT lo, hi FROM _echo WHERE peer = ?1 AND hi > ?2 ORDER BY lo")
        statement.bind(peer, at: 1)
        statement.bind(base, at: 2)
        defer { statement.reset() }
        var ranges: [ClosedRange<Int64>] = []
        while try statement.step() {
            let low = statement.int64(0)
            ranges.append(low...max(low, statement.int64(1)))
        }
        return ranges
    }

    /// Merges a batch that `peer` sent, remembering the local sequences it took so that a feed for that
    /// peer leaves them out (no echo), and saves `progress`, all in one transaction.
    ///
    /// - `scope`: when set (a device's or hub's city), every record must lie in that scope, as sent and
    ///   as stored here; one that does not is refused on its own (``ApplyReport/refused``).
    /// - `fromClient`: a server's apply of what a client pushed: a new profile must carry its required
    ///   fields and references must stay in their record's scope, or that record is refused. Records a node
    ///   refuses are kept in `_refused`, whatever the source.
    /// - `pruneEchoBelow`: echo ranges ending at or below this sequence are dropped (no reader needs them).
    /// - `sender`: the node that sent the batch. Its own stamps are held to the drift bound; the stamps
    ///   it relays (a hub's devices', a server's page) to ``ReplicaConfiguration/maxRelayedDriftMillis``.
    ///   Nil: every stamp to the drift bound.
    /// - `serverClock`: a server checks stamps against the clock it checked the request's clock with and
    ///   answers with (its own wall clock), not against a correction it learnt as a client of its
    ///   upstream, which goes stale when its wall clock is set. Nil: this node's corrected clock.
    /// - `lease`: a server moves the client's lease (``checkLease(_:node:now:)``) in the same transaction;
    ///   two copies of the node throw `.duplicateNode` and nothing is written, not even that finding; a
    ///   request that follows one not applied yet throws `.outOfOrder`.
    @discardableResult
    public func apply(
        _ batch: ChangeBatch, from peer: String, sender: NodeID? = nil, scope: String? = nil,
        fromClient: Bool = false, pruneEchoBelow: Int64? = nil, serverClock: Int64? = nil,
        lease: LeaseMove? = nil, progress: PeerProgress = .init()
    ) throws -> ApplyReport {
        let plan = try BatchPlan(batch, layouts: layouts, schema: schema, sender: sender, scope: scope)
        return try withSession { session in
            if let serverClock { session.checkedAt = UInt64(max(0, serverClock)) }
            if let lease { try Self.requireLease(session.db, lease) }
            // Stored records are checked where the merge reads them anyway (no extra lookup).
            session.scope = scope
            session.fromClient = fromClient
            session.source = peer
            let before = session.sequence
            var report = try merge(batch, plan: plan, session: session)
            report.refused = try session.markStaying()
            try settle(session, peer: peer, since: before, pruneEchoBelow: pruneEchoBelow, progress: progress)
            return report
        }
    }

    /// What every apply from a peer does after its merge, in its transaction: the echo ranges of the
    /// sequences it took (after `before`), the pruning, the saved `progress`.
    func settle(
        _ session: WriteSession, peer: String, since before: Int64, pruneEchoBelow: Int64?, progress: PeerProgress
    ) throws {
        let db = session.db
        if !progress.refused.isEmpty {
            try setAside(progress.refused, peer: peer, session: session)
        }
        // After the page's merge: an edit made before the move, in the same page, goes with the record.
        if !progress.left.isEmpty {
            let saved = try String.fetchOne(db, sql: "SELECT pushed FROM _peers WHERE peer = ?", arguments: [peer])
            let pushed = progress.pushed ?? saved.flatMap(FeedCursor.init) ?? .start
            try forget(progress.left, pushed: pushed.base, peer: peer, session: session)
        }
        if session.sequence > before {
            try recordEcho(db, peer: peer, range: (before + 1)...session.sequence)
        }
        if let pruneEchoBelow { try pruneEcho(db, peer: peer, below: pruneEchoBelow) }
        if progress.pushed != nil || progress.pulled != nil || progress.lease != nil {
            let ensure = try statements.statement(db, .init(kind: .peerEnsure)) {
                "INSERT OR IGNORE INTO _peers(peer) VALUES (?1)"
            }
            ensure.bind(peer, at: 1)
            try ensure.run()
        }
        if let pushed = progress.pushed {
            let update = try statements.statement(db, .init(kind: .peerPushed)) {
                "UPDATE _peers SET pushed = ?1 WHERE peer = ?2"
            }
            update.bind(pushed.description, at: 1)
            update.bind(peer, at: 2)
            try update.run()
            try pruneEcho(db, peer: peer, below: pushed.base)
        }
        if let lease = progress.lease {
            // The pending move behind it (a request sent before this answer) is the next one now. A newer
            // pending lease (the next request already went out) already made this one current.
            try db.cachedStatement(
                sql: """
                    UPDATE _peers SET lease = ?1, lease_next = lease_then, lease_then = NULL
                    WHERE peer = ?2 AND lease_next = ?1
                    """
            ).execute(arguments: [Int64(bitPattern: lease), peer])
        }
        if let pulled = progress.pulled {
            let update = try statements.statement(db, .init(kind: .peerPulled)) {
                "UPDATE _peers SET pulled = ?1 WHERE peer = ?2"
            }
            update.bind(pulled.description, at: 1)
            update.bind(peer, at: 2)
            try update.run()
        }
        try configuration.applyWillCommit?(peer)
    }

    /// Notes the end of a sync with `peer`: success (`error == nil`) or why it failed.
    public func recordSyncEnd(peer: String, error: String?) throws {
        let now = Self.corrected(configuration.clock.nowMillis(), by: try clockOffsetMillis())
        do {
            try writer.write { db in
                try db.execute(sql: "INSERT OR IGNORE INTO _peers(peer) VALUES (?)", arguments: [peer])
                if let error {
                    try db.execute(sql: "UPDATE _peers SET last_error = ? WHERE peer = ?", arguments: [error, peer])
                } else {
                    try db.execute(
                        sql: "UPDATE _peers SET last_error = NULL, last_sync_ms = ? WHERE peer = ?",
                        arguments: [Int64(clamping: now), peer])
                }
            }
        } catch {
            throw Self.storageError(error)
        }
    }

    private func recordEcho(_ db: Database, peer: String, range: ClosedRange<Int64>) throws {
        // Consecutive applies from one peer extend one range.
        let extend = try statements.statement(db, .init(kind: .echoExtend)) {
            "UPDATE _echo SET hi = ?1 WHERE peer = ?2 AND hi = ?3"
        }
        extend.bind(range.upperBound, at: 1)
        extend.bind(peer, at: 2)
        extend.bind(range.lowerBound - 1, at: 3)
        try extend.run()
        if extend.changes == 0 {
            let insert = try statements.statement(db, .init(kind: .echoInsert)) {
                "INSERT OR REPLACE INTO _echo(peer, lo, hi) VALUES (?1, ?2, ?3)"
            }
            insert.bind(peer, at: 1)
            insert.bind(range.lowerBound, at: 2)
            insert.bind(range.upperBound, at: 3)
            try insert.run()
        }
    }

    private func pruneEcho(_ db: Database, peer: String, below sequence: Int64) throws {
        let prune = try statements.statement(db, .init(kind: .echoPrune)) {
            "DELETE FROM _echo WHERE peer = ?1 AND hi <= ?2"
        }
        prune.bind(peer, at: 1)
        prune.bind(sequence, at: 2)
        try prune.run()
    }

    /// The records a push to `peer` still has to send: those changed here after `cursor` (the position `peer`
    /// acknowledged) by a change that did not come from `peer`; and the wall-clock time (ms) of the oldest
    /// fact among them.
    ///
    /// On a device, its own changes its server has not acknowledged, not the records it pulled; on a hub, its
    /// own and its devices' changes not yet sent upstream.
    public func pendingSummary(since cursor: FeedCursor, to peer: String) throws -> (count: Int64, oldestMillis: Int64?)
    {
        try read { db in
            let echo = SequenceRanges(try Self.echoRanges(db, peer: peer, after: cursor.base))
            var count: Int64 = 0
            var oldest: Int64?
            for layout in layouts {
                if layout.isProfile {
                    let rows = try SQLStatement(
                        cached: db, "SELECT \"_seq\", \"_stamps\" FROM \(layout.table) WHERE \"_seq\" > ?1")
                    rows.bind(cursor.position, at: 1)
                    defer { rows.reset() }
                    while try rows.step() {
                        // A row is listed at its latest change: one that came from `peer` may follow one of ours.
                        // Its pending registers give its age.
                        let stamps = try layout.decodeStamps(rows, column: 1)
                        let pending = stamps.entries.compactMap { entry in
                            entry.flatMap { $0.sequence > cursor.base && !echo.contains($0.sequence) ? $0 : nil }
                        }
                        guard !echo.contains(rows.int64(0)) || !pending.isEmpty else { continue }
                        count += 1
                        if let first = pending.map({ Int64($0.stamp.hlc.millis) }).min() {
                            oldest = min(oldest ?? first, first)
                        }
                    }
                } else {
                    guard let start = try Self.firstFactRowid(db, layout: layout, after: cursor.position) else {
                        continue
                    }
                    let rows = try SQLStatement(
                        cached: db, "SELECT \"_seq\", \"_hlc\" FROM \(layout.table) WHERE rowid >= ?1")
                    rows.bind(start, at: 1)
                    defer { rows.reset() }
                    while try rows.step() {
                        guard !echo.contains(rows.int64(0)) else { continue }
                        count += 1
                        let millis = Int64(HLCTimestamp(storage: rows.int64(1)).millis)
                        oldest = min(oldest ?? millis, millis)
                    }
                }
            }
            return (count, oldest)
        }
    }

    // MARK: Clock repair

    /// Milliseconds this node adds to its wall clock (0 unless a server found it wrong).
    public func clockOffsetMillis() throws -> Int64 {
        try read { db in try ReplicaMeta.int(db, .clockOffset) ?? 0 }
    }

    /// Sets the correction added to this node's wall clock for new stamps (learnt from a server).
    public func setClockOffset(_ millis: Int64) throws {
        do {
            try writer.write { db in try ReplicaMeta.set(db, .clockOffset, millis) }
        } catch {
            throw Self.storageError(error)
        }
    }

    /// This node's wall clock plus its correction (Unix ms): what its stamps are taken on. A time value a
    /// write puts into a record (a delivery's `delivered_at`) is read from it too, so that a clock repair
    /// moves it with the stamps (docs/protocol.md, section 13).
    public func correctedNowMillis() throws -> UInt64 {
        Self.corrected(configuration.clock.nowMillis(), by: try clockOffsetMillis())
    }

    static func corrected(_ now: UInt64, by offset: Int64) -> UInt64 {
        offset >= 0 ? now &+ UInt64(offset) : now - min(now, offset.magnitude)
    }

    /// Shifts this node's own stamps written after `cursor.base` (not acknowledged) by `offsetMillis`, when
    /// they were made with the wrong clock, keeping their order, and sets the clock after them. Returns how
    /// many stamps moved.
    ///
    /// For a node whose clock was wrong while it worked offline: its pending writes then order by when
    /// they really happened, so they neither win nor lose conflicts unfairly, and none is lost. Only the
    /// stamps the wrong clock made move (call it after correcting the clock): with a clock ahead, those
    /// beyond the drift bound of the corrected clock; with a clock behind, those that stay within it once
    /// moved. A stamp made before the clock went wrong stays: its write may already be on the server (an
    /// answer lost), and a copy under another stamp would never reach this node again (no echo).
    ///
    /// The time values the wrong clock wrote into this node's pending facts (their `timestamp` fields: a
    /// delivery's `delivered_at`) move by `offsetMillis` too, chosen by the same test on the value itself:
    /// a fact written after the clock jumped back keeps its stamp (the clock never goes back), not its
    /// time. A profile's time values are dates a person chose: they stay.
    @discardableResult
    public func repairPendingStamps(since cursor: FeedCursor, offsetMillis: Int64) throws -> Int {
        guard offsetMillis != 0 else { return 0 }
        let shift = offsetMillis.multipliedReportingOverflow(by: 1 << 16)
        guard !shift.overflow else {
            throw SyncError(.clockDrift, "A clock offset of \(offsetMillis) ms is impossible.")
        }
        func moved(_ hlc: Int64) -> Int64 {
            let maximum = Int64(HLCTimestamp.maxMillis) << 16
            return min(max(hlc.addingReportingOverflow(shift.partialValue).partialValue, 0), maximum)
        }
        return try withSession { session in
            let db = session.db
            let me = session.nodeID.rawValue
            // The corrected clock plus the drift bound: what a server accepts.
            let bound = Int64(clamping: session.now &+ configuration.maxClockDriftMillis) << 16 | 0xFFFF
            func wrong(_ hlc: Int64) -> Bool { offsetMillis < 0 ? hlc > bound : moved(hlc) <= bound }
            let which = offsetMillis < 0 ? "\"_hlc\" > ?5" : "\"_hlc\" + ?1 <= ?5"
            // Moved stamps stay after this node's stamps that do not move (those writes came first): the
            // moved ones go up together, by `extra`, when the shift would put one below them.
            // (Its own overwritten writes count too: they are in its history. Stamps beyond the bound are
            // the wrong clock's, not a floor.)
            var floor: Int64 =
                try Int64.fetchOne(
                    db, sql: "SELECT max(value_hlc) FROM _history WHERE value_node = ? AND value_hlc <= ?",
                    arguments: [me, bound])
                ?? -1
            var lowest = Int64.max
            for layout in layouts {
                if layout.isProfile {
                    let rows = try SQLStatement(db, "SELECT \"_seq\", \"_stamps\" FROM \(layout.table)")
                    while try rows.step() {
                        let row = rows.int64(0)
                        for entry in try layout.decodeStamps(rows, column: 1).entries {
                            guard let entry, entry.stamp.node.rawValue == me else { continue }
                            let hlc = entry.stamp.hlc.storage
                            if row > cursor.position, entry.sequence > cursor.base, wrong(hlc) {
                                lowest = min(lowest, moved(hlc))
                            } else if hlc <= bound {
                                floor = max(floor, hlc)
                            }
                        }
                    }
                } else {
                    let bounds = try Row.fetchOne(
                        db,
                        sql: """
                            SELECT (SELECT max("_hlc") FROM \(layout.table)
                                    WHERE "_node" = ?3 AND "_hlc" <= ?5 AND NOT ("_seq" > ?4 AND \(which))),
                                (SELECT min(max(0, min("_hlc" + ?1, ?2))) FROM \(layout.table)
                                    WHERE "_node" = ?3 AND "_seq" > ?4 AND \(which))
                            """,
                        arguments: [
                            shift.partialValue, Int64(HLCTimestamp.maxMillis) << 16, me, cursor.position, bound,
                        ])
                    if let top = bounds?[0] as Int64? { floor = max(floor, top) }
                    if let bottom = bounds?[1] as Int64? { lowest = min(lowest, bottom) }
                }
            }
            let extra = lowest == .max ? 0 : max(0, floor + 1 - lowest)
            func placed(_ hlc: Int64) -> Int64 { min(moved(hlc) + extra, Int64(HLCTimestamp.maxMillis) << 16) }
            func repaired(_ hlc: Int64) -> Int64 { wrong(hlc) ? placed(hlc) : hlc }
            var count = 0
            var newest: Int64 = 0
            for layout in layouts {
                if layout.isProfile {
                    // Rows not sent yet (mid-drain, a row at or before the position went with its fields).
                    try Self.rewriteStamps(db, layout, changedAfter: cursor.position) { entry in
                        guard entry.stamp.node.rawValue == me, entry.sequence > cursor.base,
                            wrong(entry.stamp.hlc.storage)
                        else {
                            newest = max(newest, entry.stamp.hlc.storage)
                            return false
                        }
                        entry.stamp.hlc = HLCTimestamp(storage: placed(entry.stamp.hlc.storage))
                        newest = max(newest, entry.stamp.hlc.storage)
                        count += 1
                        return true
                    }
                } else {
                    let limit = Int64(clamping: session.now &+ configuration.maxClockDriftMillis)
                    for field in layout.collection.fields where field.type == .timestamp {
                        let column = quote(field.name)
                        let range = field.range ?? 0...((1 << 48) - 1)
                        try db.execute(
                            sql: """
                                UPDATE \(layout.table) SET \(column) = min(max(\(column) + ?1, ?2), ?3)
                                WHERE "_node" = ?4 AND "_seq" > ?5
                                    AND \(offsetMillis < 0 ? "\(column) > ?6" : "\(column) + ?1 <= ?6")
                                """,
                            arguments: [offsetMillis, range.lowerBound, range.upperBound, me, cursor.position, limit])
                    }
                    try db.execute(
                        sql: """
                            UPDATE \(layout.table) SET "_hlc" = min(max(0, min("_hlc" + ?1, ?2)) + ?6, ?2)
                            WHERE "_node" = ?3 AND "_seq" > ?4 AND \(which)
                            """,
                        arguments: [
                            shift.partialValue, Int64(HLCTimestamp.maxMillis) << 16, me, cursor.position, bound, extra,
                        ])
                    count += db.changesCount
                    let top = try Int64.fetchOne(
                        db, sql: "SELECT max(\"_hlc\") FROM \(layout.table) WHERE \"_node\" = ? AND \"_seq\" > ?",
                        arguments: [me, cursor.position])
                    newest = max(newest, top ?? 0)
                }
            }
            // The clock restarts after the moved stamps (and after what it saw from others, shifted too
            // when it was ahead: those were accepted within the drift bound of the wrong clock).
            session.clock = HybridLogicalClock(
                last: HLCTimestamp(storage: max(newest, repaired(session.clock.last.storage))),
                maxDriftMillis: configuration.maxClockDriftMillis)
            return count
        }
    }
}

extension Replica {
    /// A node's own setting (its server, its volunteer name…): local, never synced.
    public func setting(_ key: String) throws -> String? {
        try read { db in try String.fetchOne(db, sql: "SELECT value FROM _settings WHERE key = ?", arguments: [key]) }
    }

    /// Saves settings in one transaction (nil removes a key).
    public func saveSettings(_ values: [String: String?]) throws {
        do {
            try writer.write { db in
                for (key, value) in values {
                    if let value {
                        try db.execute(
                            sql: """
                                INSERT INTO _settings(key, value) VALUES (?, ?)
                                ON CONFLICT(key) DO UPDATE SET value = excluded.value
                                """,
                            arguments: [key, value])
                    } else {
                        try db.execute(sql: "DELETE FROM _settings WHERE key = ?", arguments: [key])
                    }
                }
            }
        } catch {
            throw Self.storageError(error)
        }
    }

    /// Rewrites the register stamps of a profile's rows last changed after `position`: `body` gets each
    /// stamped register and returns whether it changed it; a row is written back only when one did.
    static func rewriteStamps(
        _ db: Database, _ layout: TableLayout, changedAfter position: Int64,
        _ body: (inout RegisterStamps.Entry) throws -> Bool
    ) throws {
        let rows = try SQLStatement(db, "SELECT rowid, \"_stamps\" FROM \(layout.table) WHERE \"_seq\" > ?1")
        rows.bind(position, at: 1)
        let update = try SQLStatement(db, "UPDATE \(layout.table) SET \"_stamps\" = ?1 WHERE rowid = ?2")
        while try rows.step() {
            var stamps = try layout.decodeStamps(rows, column: 1)
            var changed = false
            for (register, entry) in stamps.entries.enumerated() {
                guard var entry else { continue }
                if try body(&entry) {
                    stamps.entries[register] = entry
                    changed = true
                }
            }
            guard changed else { continue }
            update.bind(bytes: stamps.encoded(slots: layout.slots), at: 1)
            update.bind(rows.int64(0), at: 2)
            try update.run()
        }
    }
}

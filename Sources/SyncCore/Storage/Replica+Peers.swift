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

    public func apply(
        _ batch: ChangeBatch, from peer: String, sender: NodeID? = nil, scope: String? = nil,
        role: Principal.Role? = nil, fromClient: Bool = false, pruneEchoBelow: Int64? = nil, serverClock: Int64? = nil,
        lease: LeaseMove? = nil, progress: PeerProgress = .init()
    ) throws -> ApplyReport {
        let plan = try BatchPlan(batch, schema: schema, sender: sender, scope: scope)
        return try withSession { session in
            if let serverClock { session.checkedAt = UInt64(max(0, serverClock)) }
            if let lease { try Self.requireLease(session.db, lease) }
            // Stored records are checked where the merge reads them anyway (no extra lookup).
            session.scope = scope
            session.sender = sender
            session.role = role
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
}

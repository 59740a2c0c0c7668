import GRDB

extension Replica {
    // MARK: Server side

    /// Checks and moves the lease `node` holds with this server, in one transaction.
    ///
    /// Accepted: a node seen for the first time; `previous` equal to the stored lease (moving to `next`
    /// when given); or a move the node already made, among its last ``recentLeaseMoves`` (a retry after a
    /// lost answer, or a stale copy of an old request arriving late: it does not move the lease back).
    /// A request sent behind another still unanswered, whose `after` is the stored lease, is out of order
    /// (the other one has not been applied yet, or was lost): refused, and nothing recorded. Anything else
    /// proves two copies of the node, which is remembered: every later request of either copy is refused
    /// too, so that both take new ids (and pull again from the start; decision record 0005).
    public func checkLease(_ lease: Lease, node: NodeID, now: Int64) throws -> LeaseCheck {
        do {
            return try writeWithoutFsync { db in try Self.moveLease(db, lease, node: node, now: now) }
        } catch {
            throw Self.storageError(error)
        }
    }

    /// ``checkLease(_:node:now:)`` inside the caller's transaction.
    static func moveLease(_ db: Database, _ lease: Lease, node: NodeID, now: Int64) throws -> LeaseCheck {
        // On every request's path (in the push's transaction): the row read and written with bare
        // statements.
        let key = node.description
        let select = try SQLStatement(cached: db, "SELECT lease, moves, duplicate_ms FROM _leases WHERE node = ?1")
        select.bind(key, at: 1)
        var stored: LeaseBook?
        if try select.step() {
            stored = LeaseBook(
                lease: select.optionalInt64(0).map { UInt64(bitPattern: $0) }, moves: select.text(1) ?? "",
                duplicate: !select.isNull(2))
        }
        select.reset()
        let (check, write) = LeaseBook.decide(lease, stored: stored)
        switch write {
        case .none:
            break
        case .insert(let current, let moves):
            let insert = try SQLStatement(cached: db, "INSERT INTO _leases(node, lease, moves) VALUES (?1, ?2, ?3)")
            insert.bind(key, at: 1)
            bind(insert, current, at: 2)
            insert.bind(moves, at: 3)
            try insert.run()
        case .update(let current, let moves):
            let update = try SQLStatement(cached: db, "UPDATE _leases SET lease = ?1, moves = ?2 WHERE node = ?3")
            bind(update, current, at: 1)
            update.bind(moves, at: 2)
            update.bind(key, at: 3)
            try update.run()
        case .markDuplicate:
            try db.execute(sql: "UPDATE _leases SET duplicate_ms = ? WHERE node = ?", arguments: [now, key])
        }
        return check
    }

    /// ``moveLease(_:_:node:now:)`` for a push: throws `.duplicateNode` or `.outOfOrder` (the caller
    /// rolls back, and records a duplicate in a transaction of its own).
    static func requireLease(_ db: Database, _ move: LeaseMove) throws {
        switch try moveLease(db, move.lease, node: move.node, now: move.now) {
        case .accepted: return
        case .duplicate: throw SyncError(.duplicateNode, "Two copies of node \(move.node) sync with this server.")
        case .outOfOrder: throw outOfOrder(move.node)
        }
    }

    /// The error of a request that follows one not applied yet.
    public static func outOfOrder(_ node: NodeID) -> SyncError {
        SyncError(
            .outOfOrder,
            "This request of node \(node) follows one this server has not applied (still on its way, or lost). "
                + "Nothing was applied: send it again once the request before it is answered.")
    }

    private static func bind(_ statement: SQLStatement, _ lease: UInt64?, at index: Int32) {
        if let lease { statement.bind(Int64(bitPattern: lease), at: index) } else { statement.bindNull(at: index) }
    }

    /// How many of a node's last lease moves a server remembers (retries and late copies of requests).
    public static let recentLeaseMoves = LeaseBook.recentMoves

    /// Whether this server found two copies of `node` (a token bound to it may move to the node's new id).
    public func isDuplicated(_ node: NodeID) throws -> Bool {
        try read { db in
            try Int64.fetchOne(
                db, sql: "SELECT duplicate_ms FROM _leases WHERE node = ?", arguments: [node.description]) != nil
        }
    }

    private static func stored(_ lease: UInt64?) -> Int64? { lease.map { Int64(bitPattern: $0) } }

    /// A write transaction committed without waiting for the disk (`synchronous=NORMAL` for it alone).
    ///
    /// For lease moves, which sit on every push's path: the commit that follows on both sides (the server
    /// applying the push, the client saving the answer) is a full one and makes this one durable too (the
    /// WAL is written in order). A process crash loses nothing; a power cut between the two may cost a
    /// lease move, and the node is then taken for a copy of itself: it takes a new id, keeping its pending
    /// writes, and pulls again (decision record 0005).
    ///
    /// `transaction: false` for a body of one statement, which is then a transaction of its own (on the
    /// client's path before every request: GRDB's BEGIN and COMMIT, parsed each time, cost more than it).
    private func writeWithoutFsync<T>(transaction: Bool = true, _ body: (Database) throws -> T) throws -> T {
        try writer.writeWithoutTransaction { db in
            let relax = configuration.durability == .full
            if relax { try db.cachedStatement(sql: "PRAGMA synchronous = NORMAL").execute() }
            defer { if relax { try? db.cachedStatement(sql: "PRAGMA synchronous = FULL").execute() } }
            guard transaction else { return try body(db) }
            var result: T?
            try db.inTransaction(.immediate) {
                result = try body(db)
                return .commit
            }
            return result!
        }
    }

    // MARK: Client side

    /// Saves the lease this node holds with `peer`, the one it moves to with its next request, and the
    /// one a request sent behind that one (before its answer) moves to; call before sending a request, so
    /// that a retry after a crash sends the same moves.
    public func saveLease(peer: String, current: UInt64?, next: UInt64?, then: UInt64? = nil) throws {
        do {
            try writeWithoutFsync(transaction: false) { db in
                let upsert = try SQLStatement(
                    cached: db,
                    """
                    INSERT INTO _peers(peer, lease, lease_next, lease_then) VALUES (?1, ?2, ?3, ?4)
                    ON CONFLICT(peer) DO UPDATE SET
                        lease = excluded.lease, lease_next = excluded.lease_next, lease_then = excluded.lease_then
                    """)
                upsert.bind(peer, at: 1)
                Self.bind(upsert, current, at: 2)
                Self.bind(upsert, next, at: 3)
                Self.bind(upsert, then, at: 4)
                try upsert.run()
            }
        } catch {
            throw Self.storageError(error)
        }
    }

    /// The node id this replica had before a server found it duplicated, if it had one.
    public func previousNodeID() throws -> NodeID? {
        try read { db in try ReplicaMeta.int(db, .previousNodeID).flatMap(NodeID.init(rawValue:)) }
    }

    /// Gives this replica a new node id after a server found its id held by another copy (a device
    /// restored from another's backup). Returns how many pending stamps moved to the new id.
    ///
    /// In one transaction: the node's own writes that no server acknowledged (after the smallest push
    /// position) are stamped again with the new id, keeping their clock readings (and so their order);
    /// the leases are forgotten; every pull position goes back to the start, because the servers left out
    /// of this node's pulls what the other copy pushed under the shared id (its echo).
    @discardableResult
    public func takeNewNodeID(_ new: NodeID = .random()) throws -> Int {
        let previous = nodeID
        let count = try withSession { session -> Int in
            let db = session.db
            let old = session.nodeID.rawValue
            // Pending: a row not sent yet (after the push position), and in it the registers written after
            // the last drained position (the smallest over this node's servers).
            let cursors = try String.fetchAll(db, sql: "SELECT pushed FROM _peers").compactMap { FeedCursor($0) }
            let base = cursors.map(\.base).min() ?? 0
            let position = cursors.map(\.position).min() ?? 0
            var count = 0
            for layout in layouts {
                if layout.isProfile {
                    try Self.rewriteStamps(db, layout, changedAfter: position) { entry in
                        guard entry.stamp.node.rawValue == old, entry.sequence > base else { return false }
                        entry.stamp.node = new
                        count += 1
                        return true
                    }
                } else {
                    try db.execute(
                        sql: "UPDATE \(layout.table) SET \"_node\" = ? WHERE \"_node\" = ? AND \"_seq\" > ?",
                        arguments: [new.rawValue, old, position])
                    count += db.changesCount
                }
            }
            try db.execute(sql: "UPDATE _peers SET lease = NULL, lease_next = NULL, lease_then = NULL, pulled = '0'")
            try ReplicaMeta.set(db, .previousNodeID, old)
            try ReplicaMeta.set(db, .nodeID, new.rawValue)
            return count
        }
        node.value = new
        logger.warning(
            "node id duplicated: this replica took a new one",
            metadata: ["sync.node": "\(new)", "sync.node.previous": "\(previous)", "sync.restamped": "\(count)"])
        return count
    }
}

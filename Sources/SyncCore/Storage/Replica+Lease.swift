import GRDB

/// What a server decided about a client's lease.
public enum LeaseCheck: Sendable, Equatable {
    /// The lease is this node's: the request goes on.
    case accepted
    /// Two copies of the node hold diverging leases (now, or seen before): refuse the request.
    case duplicate
}

/// A client's lease move that a server makes in the transaction applying the client's push.
public struct LeaseMove: Sendable {
    public var lease: SyncRequest.Lease
    public var node: NodeID
    /// Server time (Unix ms), recorded when two copies are found.
    public var now: Int64

    public init(_ lease: SyncRequest.Lease, node: NodeID, now: Int64) {
        self.lease = lease
        self.node = node
        self.now = now
    }
}

extension Replica {
    // MARK: Server side

    /// Checks and moves the lease `node` holds with this server, in one transaction.
    ///
    /// Accepted: a node seen for the first time; `previous` equal to the stored lease (moving to `next`
    /// when given); or a move the node already made, among its last ``recentLeaseMoves`` (a retry after a
    /// lost answer, or a stale copy of an old request arriving late: it does not move the lease back).
    /// Anything else proves two copies of the node, which is remembered: every later request of either
    /// copy is refused too, so that both take new ids (and pull again from the start; decision record
    /// 0005).
    public func checkLease(_ lease: SyncRequest.Lease, node: NodeID, now: Int64) throws -> LeaseCheck {
        do {
            return try writeWithoutFsync { db in try Self.moveLease(db, lease, node: node, now: now) }
        } catch {
            throw Self.storageError(error)
        }
    }

    /// ``checkLease(_:node:now:)`` inside the caller's transaction.
    static func moveLease(_ db: Database, _ lease: SyncRequest.Lease, node: NodeID, now: Int64) throws -> LeaseCheck {
        let key = node.description
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT lease, moves, duplicate_ms FROM _leases WHERE node = ?"),
                arguments: [key])
        else {
            try db.execute(
                sql: "INSERT INTO _leases(node, lease, moves) VALUES (?, ?, ?)",
                arguments: [key, Self.stored(lease.next ?? lease.previous), Self.moves("", adding: lease)])
            return .accepted
        }
        if row["duplicate_ms"] as Int64? != nil { return .duplicate }
        let current = (row["lease"] as Int64?).map { UInt64(bitPattern: $0) }
        let moves = (row["moves"] as String?) ?? ""
        if lease.previous == current {
            if let next = lease.next, next != current {
                try db.cachedStatement(sql: "UPDATE _leases SET lease = ?, moves = ? WHERE node = ?")
                    .execute(arguments: [Self.stored(next), Self.moves(moves, adding: lease), key])
            }
            return .accepted
        }
        if lease.next != nil, moves.split(separator: ",").contains(Substring(Self.move(lease))) {
            return .accepted
        }
        try db.execute(sql: "UPDATE _leases SET duplicate_ms = ? WHERE node = ?", arguments: [now, key])
        return .duplicate
    }

    /// How many of a node's last lease moves a server remembers (retries and late copies of requests).
    public static let recentLeaseMoves = 16

    private static func move(_ lease: SyncRequest.Lease) -> String {
        "\(lease.previous.map { String($0, radix: 16) } ?? "-"):\(lease.next.map { String($0, radix: 16) } ?? "-")"
    }

    private static func moves(_ list: String, adding lease: SyncRequest.Lease) -> String {
        guard lease.next != nil else { return list }
        let kept = list.split(separator: ",").suffix(recentLeaseMoves - 1).map(String.init)
        return (kept + [move(lease)]).joined(separator: ",")
    }

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
    private func writeWithoutFsync<T>(_ body: (Database) throws -> T) throws -> T {
        try writer.writeWithoutTransaction { db in
            let relax = configuration.durability == .full
            if relax { try db.cachedStatement(sql: "PRAGMA synchronous = NORMAL").execute() }
            defer { if relax { try? db.cachedStatement(sql: "PRAGMA synchronous = FULL").execute() } }
            var result: T?
            try db.inTransaction(.immediate) {
                result = try body(db)
                return .commit
            }
            return result!
        }
    }

    // MARK: Client side

    /// Saves the lease this node holds with `peer` and the one it moves to with its next request; call
    /// before sending that request, so that a retry after a crash sends the same pair.
    public func saveLease(peer: String, current: UInt64?, next: UInt64?) throws {
        do {
            try writeWithoutFsync { db in
                try db.cachedStatement(
                    sql: """
                        INSERT INTO _peers(peer, lease, lease_next) VALUES (?1, ?2, ?3)
                        ON CONFLICT(peer) DO UPDATE SET lease = excluded.lease, lease_next = excluded.lease_next
                        """
                ).execute(arguments: [peer, Self.stored(current), Self.stored(next)])
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
            try db.execute(sql: "UPDATE _peers SET lease = NULL, lease_next = NULL, pulled = '0'")
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

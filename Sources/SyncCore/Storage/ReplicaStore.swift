import Dispatch

/// ``SyncStore`` over an embedded SQLite replica: a hub's store, and central's when it needs nothing else
/// to start.
///
/// Each call runs the replica's blocking work on a Dispatch thread, never on the cooperative pool or an
/// event loop, and resumes the caller when it is done: one hop per call. The token lookup every request
/// makes runs in place instead (a point query on its own connection, microseconds: a hop there and back
/// costs more), and takes the hop only when that connection cannot answer.
public final class ReplicaStore: SyncStore {
    /// The replica; the server side uses this store, the client side of a hub (its upstream sync) the
    /// replica itself.
    public let replica: Replica
    /// The lookup on a connection of its own (nil for an in-memory replica).
    private let lookup: TokenLookup?

    public init(_ replica: Replica) throws {
        self.replica = replica
        try replica.prepareTokens()
        lookup = replica.path.flatMap(TokenLookup.init(path:))
    }

    public var nodeID: NodeID { replica.nodeID }
    public var maxClockDriftMillis: UInt64 { replica.configuration.maxClockDriftMillis }

    /// Runs `body` on a Dispatch thread and returns its result.
    private func run<T: Sendable>(_ body: @escaping @Sendable (Replica) throws -> T) async throws -> T {
        let replica = self.replica
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try body(replica) })
            }
        }
    }

    public func head() async throws -> FeedCursor {
        try await run { replica in try replica.headCursor() }
    }

    // MARK: Sync

    public func apply(_ push: ClientPush) async throws -> ApplyReport {
        try await run { replica in
            do {
                return try replica.apply(
                    push.batch, from: ClientPush.peerKey(client: push.client), sender: push.client, scope: push.scope,
                    role: push.role, fromClient: true, pruneEchoBelow: push.pruneEchoBelow, serverClock: push.now,
                    lease: push.lease)
            } catch let error as SyncError where error.code == .duplicateNode {
                // Rolled back with the push: the finding is recorded in a transaction of its own.
                if let move = push.lease,
                    try replica.checkLease(move.lease, node: move.node, now: move.now) == .outOfOrder
                {
                    throw Replica.outOfOrder(move.node)
                }
                throw error
            }
        }
    }

    /// A stream on a replica in a file; an in-memory one (a single connection, which the stream's open
    /// write would hold against every read) applies pushes whole.
    public func beginPush(client: NodeID, scope: String?, role: Principal.Role?, now: Int64) -> (any PushStream)? {
        guard replica.path != nil else { return nil }
        return StreamedApply(replica: replica, client: client, scope: scope, role: role, now: now)
    }

    public func moveLease(_ move: LeaseMove) async throws -> LeaseCheck {
        try await run { replica in try replica.checkLease(move.lease, node: move.node, now: move.now) }
    }

    public func changes(since cursor: FeedCursor, limit: Int, filter: FeedFilter) async throws -> FeedPage {
        try await run { replica in try replica.changes(since: cursor, limit: limit, filter: filter) }
    }

    public func recordConflicts(_ entries: [HistoryEntry], scope: String?) async throws -> Int {
        try await run { replica in try replica.recordRelayed(entries, scope: scope) }
    }

    @discardableResult
    public func recordStatuses(_ statuses: [DeviceStatus], via hub: NodeID?) async throws -> Int {
        try await run { replica in
            guard let hub else {
                for status in statuses { try replica.recordStatus(status) }
                return 0
            }
            return try replica.recordRelayed(statuses, via: hub)
        }
    }

    // MARK: Nodes

    public func hasSeen(_ node: NodeID) async throws -> Bool {
        try await run { replica in try replica.hasSeen(node) }
    }

    public func isDuplicated(_ node: NodeID) async throws -> Bool {
        try await run { replica in try replica.isDuplicated(node) }
    }

    // MARK: Tokens

    public func token(hash: [UInt8]) async throws -> StoredToken? {
        switch lookup?.find(hash) {
        case .found(let token)?: return token
        case .missing?: return nil
        case nil, .failed?: return try await run { replica in try replica.token(hash: hash) }
        }
    }

    public func addToken(_ token: TokenRecord, hash: [UInt8]) async throws {
        try await run { replica in try replica.addToken(token, hash: hash) }
    }

    public func tokens() async throws -> [TokenRecord] {
        try await run { replica in try replica.tokens() }
    }

    public func revokeTokens(idOrName: String, now: Int64) async throws -> [TokenRecord] {
        try await run { replica in try replica.revokeTokens(idOrName: idOrName, now: now) }
    }

    public func boundNode(token id: String) async throws -> NodeID? {
        try await run { replica in try replica.boundNode(token: id) }
    }

    public func bind(token id: String, to node: NodeID) async throws -> NodeID? {
        try await run { replica in try replica.bind(token: id, to: node) }
    }

    public func rebind(token id: String, from old: NodeID, to new: NodeID) async throws -> NodeID? {
        try await run { replica in try replica.rebind(token: id, from: old, to: new) }
    }

    // MARK: Settings

    public func setting(_ key: String) async throws -> String? {
        try await run { replica in try replica.setting(key) }
    }

    public func saveSettings(_ values: [String: String?]) async throws {
        try await run { replica in try replica.saveSettings(values) }
    }
}

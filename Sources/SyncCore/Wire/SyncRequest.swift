/// What a client sends in one `POST /v1/sync`: its changes and where it is in the server's feed.
public struct SyncRequest: Sendable {
    public static let protocolVersion: Int64 = 1

    /// The client's node id (a device's or hub's; the server checks it against the token).
    public var node: NodeID
    /// The client's wall clock (corrected, Unix ms) when it sent the request.
    public var clockMillis: Int64
    public var push: Push?
    /// The request pushes at least one change (an empty push only acknowledges a position).
    public var pushesChanges: Bool { !(push?.batch.isEmpty ?? true) }
    public var pull: Pull?
    public var heartbeat: Heartbeat?
    /// A hub's devices' statuses, relayed upstream (accepted from hub tokens only, for their city).
    public var relayed: [DeviceStatus] = []
    /// Conflicts a hub saw, relayed upstream (hub and admin tokens only).
    public var conflicts: [HistoryEntry] = []
    /// The client's push lease with this server (see ``Lease``); nil from clients that predate it.
    public var lease: Lease?
    /// The node id this client had before a duplicated node id made it take `node` (token rebinding).
    public var rekeyedFrom: NodeID?

    public init(node: NodeID, clockMillis: Int64, push: Push? = nil, pull: Pull? = nil, heartbeat: Heartbeat? = nil) {
        self.node = node
        self.clockMillis = clockMillis
        self.push = push
        self.pull = pull
        self.heartbeat = heartbeat
    }

    /// A page of the client's own feed, and the client's feed position once it is applied.
    public struct Push: Sendable {
        public var batch: ChangeBatch
        public var to: FeedCursor
        public init(batch: ChangeBatch, to: FeedCursor) {
            self.batch = batch
            self.to = to
        }
    }

    /// See ``Lease``: the wire names it `lease`.
    public typealias Lease = SyncCore.Lease

    /// Where the client is in the server's feed, and how much it takes per response.
    public struct Pull: Sendable {
        public var cursor: FeedCursor
        /// Records per response (the server may send fewer). Default 1,000.
        public var limit: Int
        /// Bytes per response before compression, roughly (the server halves the page until it fits).
        public var budget: Int?
        public init(cursor: FeedCursor, limit: Int = 1000, budget: Int? = nil) {
            self.cursor = cursor
            self.limit = limit
            self.budget = budget
        }
    }
}

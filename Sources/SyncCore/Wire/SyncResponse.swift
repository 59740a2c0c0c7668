/// What the server answers: the push's acknowledgement and a page of its feed.
public struct SyncResponse: Sendable {
    /// The server's node id.
    public var node: NodeID
    /// The server's wall clock (Unix ms) when it answered.
    public var clockMillis: Int64
    public var pushed: PushAck?
    public var pull: PullPage?

    public init(node: NodeID, clockMillis: Int64, pushed: PushAck? = nil, pull: PullPage? = nil) {
        self.node = node
        self.clockMillis = clockMillis
        self.pushed = pushed
        self.pull = pull
    }

    /// The push was committed: the client may move its push position to `to`.
    public struct PushAck: Sendable, Equatable {
        public var to: FeedCursor
        /// Records the push carried, refused ones included.
        public var records: Int
        public var conflicts: Int
        /// Records the server did not apply, and why: the client sets them aside (never sent again as they
        /// are, never blocking the records after them).
        public var refused: [Refusal]
        public init(to: FeedCursor, records: Int, conflicts: Int, refused: [Refusal] = []) {
            self.to = to
            self.records = records
            self.conflicts = conflicts
            self.refused = refused
        }
    }

    public struct PullPage: Sendable {
        public var batch: ChangeBatch
        /// The client's next cursor, to save with the applied batch.
        public var cursor: FeedCursor
        /// Whether more changes remain after `cursor`.
        public var more: Bool
        /// Records that left the client's scope: it deletes its copies (see ``FeedPage/left``).
        public var left: [RecordRef]
        /// Of those, the ones the server's own server refused, and why: the client sets them aside.
        public var refused: [Refusal]
        /// `batch` as JSON, when the server encoded it already (to fit a byte budget): sent as it is.
        package var encodedBatch: [UInt8]?
        public init(
            batch: ChangeBatch, cursor: FeedCursor, more: Bool, left: [RecordRef] = [], refused: [Refusal] = []
        ) {
            self.batch = batch
            self.cursor = cursor
            self.more = more
            self.left = left
            self.refused = refused
        }
    }
}

/// What a sync did.
public struct SyncSummary: Sendable, Equatable {
    public var pushed = 0
    public var pulled = 0
    public var conflicts = 0
    /// Records of this node the server refused (set aside: see `Replica.refusedRecords`).
    public var refused = 0
    public var roundTrips = 0
    public var bytesSent = 0
    public var bytesReceived = 0
    /// Pending stamps moved because this node's clock was wrong, and by how much (ms).
    public var repairedStamps = 0
    public var repairOffsetMillis: Int64 = 0
    /// This node's clock correction after the sync (ms added to its wall clock).
    public var clockOffsetMillis: Int64 = 0
    /// The node id this node took because a server found its id duplicated, if it did.
    public var newNodeID: NodeID?
    public var restampedForNewNode = 0
    public var millis: UInt64 = 0

    public init() {}
}

/// What a server knows of one of its clients: its heartbeat, who it is, when it was last seen. A hub relays
/// its devices' statuses upstream, so that central's stale devices view covers every device.
public struct DeviceStatus: Sendable, Equatable {
    public var node: NodeID
    public var name: String
    public var role: String
    public var city: String?
    public var heartbeat: Heartbeat
    /// Server clock minus the client's, at its last sync.
    public var clockOffsetMillis: Int64
    public var lastSeenMillis: Int64

    public init(
        node: NodeID, name: String, role: String, city: String?, heartbeat: Heartbeat, clockOffsetMillis: Int64,
        lastSeenMillis: Int64
    ) {
        self.node = node
        self.name = name
        self.role = role
        self.city = city
        self.heartbeat = heartbeat
        self.clockOffsetMillis = clockOffsetMillis
        self.lastSeenMillis = lastSeenMillis
    }

    /// The range of a clock offset or correction a client may report: about ±1,100 years, far beyond any
    /// real clock error, and small enough that no sum of two of them overflows.
    public static let offsetRange: ClosedRange<Int64> = -(1 << 45)...(1 << 45)
    /// The range of a count or a time (Unix ms) a client may report.
    public static let countRange: ClosedRange<Int64> = 0...(1 << 53)

    /// The most statuses one request relays.
    public static let maxRelayed = 10_000
}

/// How a client is doing, sent with each sync so that central can show stale devices.
public struct Heartbeat: Sendable, Equatable {
    public var app: String
    /// Records the server will still lack once it applied the push this heartbeat comes with: this node's
    /// own changes (a hub: also its devices'), never those it received from the server.
    public var backlog: Int64
    /// Age of the oldest of them, in ms.
    public var oldestPendingMillis: Int64?
    /// The last sync error, if the last sync failed.
    public var lastError: String?
    /// What the client adds to its own wall clock (learnt from servers), in ms. The server adds it to the
    /// offset it measures, so that the stale devices view shows how wrong the device's own clock is, not
    /// the (small) error left after FieldSync's correction. Default 0.
    public var clockCorrectionMillis: Int64 = 0

    public init(
        app: String, backlog: Int64 = 0, oldestPendingMillis: Int64? = nil, lastError: String? = nil,
        clockCorrectionMillis: Int64 = 0
    ) {
        self.app = app
        self.backlog = backlog
        self.oldestPendingMillis = oldestPendingMillis
        self.lastError = lastError
        self.clockCorrectionMillis = clockCorrectionMillis
    }
}

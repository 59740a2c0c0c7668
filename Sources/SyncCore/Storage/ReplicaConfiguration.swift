/// How a replica stores and stamps. Every property documents its default.
public struct ReplicaConfiguration: Sendable {
    /// How SQLite syncs to disk.
    public enum Durability: String, Sendable {
        /// `synchronous=FULL`: a committed write survives power loss (devices, central). The default.
        case full
        /// `synchronous=NORMAL`: survives a crash of the process, may lose the last commits on power loss (hubs, tests).
        case normal
        /// `synchronous=OFF`: only for throwaway replicas in tests and benchmarks.
        case off
    }

    /// Default `.full`.
    public var durability: Durability = .full
    /// The wall clock that feeds the hybrid logical clock. Default the system clock.
    public var clock: any PhysicalClock = SystemClock()
    /// How far ahead of this node's clock a remote stamp may be. Default 5 minutes.
    public var maxClockDriftMillis: UInt64 = HybridLogicalClock.defaultMaxDriftMillis
    /// How far ahead a stamp may be that the sender relays (made by another node, admitted by the server
    /// where it entered) or a server sends down: twice ``maxClockDriftMillis``.
    public var maxRelayedDriftMillis: UInt64 { maxClockDriftMillis &* 2 }
    /// The node id a new replica takes. Default nil: a random one. Ignored when the replica exists.
    public var nodeID: NodeID?
    /// The most memory SQLite's page cache may take, in MiB. Default 16: enough for a city's families
    /// and its recent deliveries, so a merge does not read the same pages again.
    public var cacheSizeMiB: Int = 16
    /// How long a write waits for another process's write to finish. Default 10 s.
    public var busyTimeoutSeconds: Double = 10

    /// Seeds the random bits of record ids (once per write transaction). Default the system generator.
    public var random: @Sendable () -> UInt64 = {
        var system = SystemRandomNumberGenerator()
        return system.next()
    }

    /// Called inside the transaction of every ``Replica/apply(_:from:sender:scope:pruneEchoBelow:serverClock:lease:progress:)``,
    /// after the merge and before the commit; a throw rolls the whole apply back. For fault-injection
    /// tests (a process that dies mid-batch). Default nil.
    package var applyWillCommit: (@Sendable (_ peer: String) throws -> Void)?

    public init() {}
}

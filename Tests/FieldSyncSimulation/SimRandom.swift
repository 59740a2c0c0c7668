import SyncCore
import Synchronization

/// A node's own seeded randomness (record ids, leases, a new node id), shared with its replica's closures.
final class SimRandom: Sendable {
    private let generator: Mutex<SplitMix64>

    init(seed: UInt64) { generator = Mutex(SplitMix64(seed: seed)) }

    func next() -> UInt64 { generator.withLock { $0.next() } }

    func nodeID() -> NodeID { NodeID(rawValue: Int64(bitPattern: next() >> 1) | 1)! }
}

/// A node's wall clock, set by the simulation's manual time (its skew included).
final class SimClock: PhysicalClock {
    private let millis: Mutex<UInt64>

    init(_ millis: UInt64) { self.millis = Mutex(millis) }

    func nowMillis() -> UInt64 { millis.withLock { $0 } }
    func set(_ value: UInt64) { millis.withLock { $0 = value } }
}

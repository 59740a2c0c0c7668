import SyncCore
import Synchronization

/// A node's own seeded randomness (record ids, leases, a new node id), shared with its replica's closures.
final class SimRandom: Sendable {
    private let generator: Mutex<SplitMix64>

    init(seed: UInt64) { generator = Mutex(SplitMix64(seed: seed)) }

    func next() -> UInt64 { generator.withLock { $0.next() } }

    func nodeID() -> NodeID { NodeID(rawValue: Int64(bitPattern: next() >> 1) | 1)! }
}

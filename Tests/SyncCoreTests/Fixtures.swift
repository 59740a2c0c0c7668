import FieldDomain
import Foundation
import SyncCore
import Synchronization

/// A wall clock the test sets by hand.
final class ManualClock: PhysicalClock {
    private let millis: Mutex<UInt64>

    init(_ millis: UInt64 = 1_780_000_000_000) {
        self.millis = Mutex(millis)
    }

    func nowMillis() -> UInt64 { millis.withLock { $0 } }
    func set(_ value: UInt64) { millis.withLock { $0 = value } }
    func advance(_ delta: UInt64) { millis.withLock { $0 += delta } }
    func rewind(_ delta: UInt64) { millis.withLock { $0 -= delta } }
}

/// Every random test draws from SplitMix64 (SyncCore's), so that it replays from its seed.
typealias SeededGenerator = SplitMix64

/// The base seed of the random tests: `FIELDSYNC_SEED=…` replays a run; printed on failure.
let baseSeed: UInt64 = ProcessInfo.processInfo.environment["FIELDSYNC_SEED"].flatMap { UInt64($0) } ?? 20_261_124

func makeReplica(
    schema: Schema = .fieldSync, clock: ManualClock = ManualClock(), node: NodeID? = nil
) throws -> Replica {
    var configuration = ReplicaConfiguration()
    configuration.clock = clock
    configuration.nodeID = node
    configuration.durability = .off
    return try Replica(inMemory: schema, configuration: configuration)
}

/// A fresh temporary directory, removed by the caller with `cleanup`.
func makeTemporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("fieldsync-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func makeFileReplica(
    at path: String, schema: Schema = .fieldSync, clock: ManualClock = ManualClock(), node: NodeID? = nil
) throws -> Replica {
    var configuration = ReplicaConfiguration()
    configuration.clock = clock
    configuration.nodeID = node
    configuration.durability = .normal
    return try Replica(path: path, schema: schema, configuration: configuration)
}

/// Pulls every change of `source` after `cursor` into `target`, page by page; returns the new cursor.
@discardableResult
func pull(
    from source: Replica, into target: Replica, since cursor: FeedCursor = .start, limit: Int = 1000
) throws
    -> FeedCursor
{
    var cursor = cursor
    while true {
        let page = try source.changes(since: cursor, limit: limit)
        if !page.batch.isEmpty { try target.apply(page.batch) }
        cursor = page.cursor
        if !page.hasMore { return cursor }
    }
}

func node(_ raw: Int64) -> NodeID { NodeID(rawValue: raw)! }

func stamp(_ millis: UInt64, _ counter: UInt16 = 0, node raw: Int64) -> Stamp {
    Stamp(hlc: HLCTimestamp(millis: millis, counter: counter), node: node(raw))
}

let familyFields = [
    "city", "association", "reference", "head_name", "phone", "household_size", "district", "address",
    "notes", "merged_into", "_deleted",
]
let deliveryFields = ["city", "family", "item", "quantity", "campaign", "delivered_at", "volunteer", "note"]

extension SyncService {
    /// The replica of a service over an embedded store (every service of these tests).
    var replica: Replica { (store as! ReplicaStore).replica }
}

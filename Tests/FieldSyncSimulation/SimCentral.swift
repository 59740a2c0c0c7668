package import Foundation
package import Logging
package import SyncCore

/// Central in a simulated run, on whichever engine: the store its syncs are served from, and what the
/// checks read of it at the end.
///
/// The world asks for a new store at every sync (``store()``), as a server process would hold one; the
/// records are read from ``dump()`` (``SimRecords``), so that every engine is checked by the same code.
package protocol SimCentral: AnyObject {
    /// Central's node id.
    var nodeID: NodeID { get }
    /// The store a sync (or an attack's request) is served from.
    func store() throws -> any SyncStore
    /// The replicated state, in the SQLite replica's `dump()` format.
    func dump() throws -> String
    /// `collection/id` of every record central refused and kept aside, whatever its status.
    func refusedKeys() throws -> Set<String>
    /// The values displaced at central from one record's fields.
    func history(collection: String, recordID: String) throws -> [HistoryEntry]
    /// How many client statuses named `name` central keeps.
    func statuses(named name: String) throws -> Int
    /// "ok", or what is wrong with central's storage.
    func integrityCheck() throws -> String
    /// Central's process dies at rest and starts again on its storage.
    func restart() throws
    /// The admin moves family `id` to `city`, with a stamp above every stamp of the record.
    func moveFamily(_ id: String, to city: String, now: UInt64) throws
    /// Releases what central holds (its storage stays until the world is gone).
    func close()
}

/// Where a world's central lives, handed to a ``SimCentralFactory``.
package struct SimCentralContext {
    /// A folder of the world's own, removed with it.
    package var directory: URL
    /// Central's wall clock (the simulation's manual time, with central's skew).
    package var clock: any PhysicalClock
    /// Central's node id (an engine that draws its own may keep it).
    package var nodeID: NodeID
    /// Central's seeded randomness.
    package var random: @Sendable () -> UInt64
    package var logger: Logger
}

/// Makes the central of a new world.
package typealias SimCentralFactory = @Sendable (SimCentralContext) throws -> any SimCentral

extension SimCentral {
    /// Central's own replica, for the admin's work on recharge codes (``SimVoucherEvent``); nil on an
    /// engine that has none (the voucher runs use the SQLite central).
    package func replicaForAdmin() -> Replica? { (self as? SimReplicaCentral)?.adminReplica }

    /// Runs async work of an engine's store from the simulation's synchronous code, on Dispatch threads
    /// (never waiting for a thread of the cooperative pool).
    package func wait<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        try WaitingExecutor.shared.wait(body)
    }
}

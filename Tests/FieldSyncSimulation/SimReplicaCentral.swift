import FieldDomain
import Foundation
import GRDB
package import SyncCore

/// Central on an embedded SQLite replica (a file), as `sync-server` runs it by default.
package final class SimReplicaCentral: SimCentral {
    private let context: SimCentralContext
    private var replica: Replica?

    /// The factory of the simulation's default central.
    package static let factory: SimCentralFactory = { try SimReplicaCentral($0) }

    init(_ context: SimCentralContext) throws {
        self.context = context
        replica = try open()
    }

    private var path: String { context.directory.appendingPathComponent("n0.sqlite").path }

    private func open() throws -> Replica {
        var configuration = ReplicaConfiguration()
        configuration.clock = context.clock
        configuration.durability = .off
        configuration.cacheSizeMiB = 1
        configuration.nodeID = context.nodeID
        configuration.random = context.random
        return try Replica(path: path, schema: .fieldSync, configuration: configuration, logger: context.logger)
    }

    private var current: Replica { replica! }

    /// The replica the admin works on (central's own file).
    var adminReplica: Replica { current }

    package var nodeID: NodeID { current.nodeID }

    package func store() throws -> any SyncStore { try ReplicaStore(current) }

    package func dump() throws -> String { try current.dump() }

    package func refusedKeys() throws -> Set<String> {
        Set(try current.refusedRecords(status: nil).map { $0.refusal.collection + "/" + $0.refusal.id })
    }

    package func history(collection: String, recordID: String) throws -> [HistoryEntry] {
        try current.history(collection: collection, recordID: recordID)
    }

    package func statuses(named name: String) throws -> Int {
        try current.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM _heartbeats WHERE name = ?", arguments: [name]) ?? 0
        }
    }

    package func integrityCheck() throws -> String { try current.integrityCheck() }

    package func restart() throws {
        replica = nil
        replica = try open()
    }

    /// A write of central's own (its clock stamps it above what it merged).
    package func moveFamily(_ id: String, to city: String, now: UInt64) throws {
        try current.write { tx in try tx.editFamily(id, ["city": .text(city)]) }
    }

    package func close() { replica = nil }
}

import CentralPostgres
import FieldDomain
import FieldSyncSimulation
import FieldSyncTesting
import Foundation
import Logging
import PostgresNIO
import SyncCore

/// Central on PostgreSQL in the simulation: a database of its own on the suite's cluster, a pool of two
/// connections, and a ``PostgresStore`` over it, with the domain's schema. A crash of central's process
/// closes the pool and opens a new one and a new store on the same database.
final class SimPostgresCentral: SimCentral {
    let cluster: PostgresCluster
    let configuration: PostgresStoreConfiguration
    /// The database's name on the cluster (dropped by ``close()``).
    let name: String
    private var database: CentralPostgres.PostgresDatabase
    private var current: PostgresStore
    private var closed = false
    /// The admin's node: its moves of a family come to central as an admin's push.
    static let admin = NodeID(rawValue: 1_000_003_000)!

    /// A factory of centrals on `cluster`.
    static func factory(cluster: PostgresCluster) -> SimCentralFactory {
        { context in try SimPostgresCentral(cluster: cluster, nodeID: context.nodeID) }
    }

    /// Makes a database; gives central `nodeID` (a run replays whatever PostgreSQL's migration drew).
    init(cluster: PostgresCluster, nodeID: NodeID) throws {
        self.cluster = cluster
        let (name, configuration) = try WaitingExecutor.shared.wait {
            let name = try await cluster.createDatabase()
            var configuration = try PostgresStoreConfiguration(url: cluster.url(database: name))
            configuration.poolSize = 2
            configuration.connectionWait = .seconds(120)  // (see makeDatabaseConfiguration)
            return (name, configuration)
        }
        self.name = name
        self.configuration = configuration
        let opened = try WaitingExecutor.shared.wait {
            let database = try CentralPostgres.PostgresDatabase(configuration, logger: quietLogger)
            do {
                _ = try await PostgresStore(database, schema: .fieldSync)
                _ = try await database.withConnection { connection in
                    try await connection.query(
                        "UPDATE _meta SET node_id = \(nodeID.rawValue) WHERE id = 1", logger: quietLogger)
                }
                return (database, try await PostgresStore(database, schema: .fieldSync))
            } catch {
                await database.shutdown()
                throw error
            }
        }
        database = opened.0
        current = opened.1
    }

    deinit { close() }

    var nodeID: NodeID { current.nodeID }

    func store() throws -> any SyncStore { current }

    func dump() throws -> String {
        let store = current
        return try wait { try await store.dump() }
    }

    func refusedKeys() throws -> Set<String> {
        try rows("SELECT DISTINCT collection || '/' || record_id FROM _refused", as: String.self).reduce(into: []) {
            $0.insert($1)
        }
    }

    func history(collection: String, recordID: String) throws -> [HistoryEntry] {
        let database = database
        let rows = try wait {
            try await database.withConnection { connection in
                let rows = try await connection.query(
                    """
                    SELECT field, jsonb_typeof(value), value #>> '{}', value_hlc, value_node, winner_hlc, winner_node
                    FROM _history WHERE collection = \(collection) AND record_id = \(recordID) ORDER BY id
                    """, logger: quietLogger)
                var found: [(String, String?, String?, Int64, Int64, Int64, Int64)] = []
                for try await row in rows.decode((String, String?, String?, Int64, Int64, Int64, Int64).self) {
                    found.append(row)
                }
                return found
            }
        }
        return rows.compactMap { field, type, text, valueHLC, valueNode, winnerHLC, winnerNode -> HistoryEntry? in
            guard let valueNode = NodeID(rawValue: valueNode), let winnerNode = NodeID(rawValue: winnerNode) else {
                return nil
            }
            let value: Value =
                switch (type, text) {
                case ("string"?, let text?): .text(text)
                case ("number"?, let text?): Int64(text).map(Value.integer) ?? Double(text).map(Value.real) ?? .null
                default: .null
                }
            return HistoryEntry(
                collection: collection, recordID: recordID, field: field, value: value,
                stamp: Stamp(hlc: HLCTimestamp(storage: valueHLC), node: valueNode),
                winner: Stamp(hlc: HLCTimestamp(storage: winnerHLC), node: winnerNode))
        }
    }

    func statuses(named name: String) throws -> Int {
        let database = database
        return try wait {
            try await database.withConnection { connection in
                let rows = try await connection.query(
                    "SELECT count(*) FROM _heartbeats WHERE name = \(name)", logger: quietLogger)
                for try await count in rows.decode(Int.self) { return count }
                return 0
            }
        }
    }

    /// No record's sequence is past the feed's head (`_meta`): the feed would skip it.
    func integrityCheck() throws -> String {
        let head = try rows("SELECT seq FROM _meta", as: Int64.self).first ?? 0
        var problems: [String] = []
        for collection in Schema.fieldSync.collections.map(\.name) {
            let top = try rows("SELECT coalesce(max(_seq), 0) FROM \"\(collection)\"", as: Int64.self).first ?? 0
            if top > head { problems.append("\(collection) has a sequence \(top) past the head \(head)") }
        }
        return problems.isEmpty ? "ok" : problems.joined(separator: "; ")
    }

    func restart() throws {
        let (old, configuration) = (database, configuration)
        (database, current) = try wait {
            await old.shutdown()
            let database = try CentralPostgres.PostgresDatabase(configuration, logger: quietLogger)
            do {
                return (database, try await PostgresStore(database, schema: .fieldSync))
            } catch {
                await database.shutdown()
                throw error
            }
        }
    }

    /// The admin's push (no scope), stamped above every stamp of the record, as the admin's replica would
    /// after pulling it.
    func moveFamily(_ id: String, to city: String, now: UInt64) throws {
        let stamps = try SimRecords(dump: dump()).record("families", id: id)?.stamps.values ?? [:].values
        var hlc = HLCTimestamp(millis: now, counter: 0)
        if let top = stamps.max(), top.hlc >= hlc { hlc = HLCTimestamp(rawValue: top.hlc.rawValue + 1) }
        let batch = ChangeBatch([
            CollectionChanges(
                name: "families", fields: ["city"],
                records: [
                    RecordChange(
                        id: id, stamp: Stamp(hlc: hlc, node: Self.admin), cells: [Cell(field: 0, value: .text(city))])
                ])
        ])
        let push = ClientPush(
            batch: batch, client: Self.admin, scope: nil, lease: nil, pruneEchoBelow: nil, now: Int64(now))
        let store = current
        _ = try wait { try await store.apply(push) }
    }

    func close() {
        guard !closed else { return }
        closed = true
        let (database, cluster, name) = (database, cluster, name)
        try? wait {
            await database.shutdown()
            try await cluster.dropDatabase(named: name)
        }
    }

    private func rows<T: PostgresDecodable & Sendable>(_ sql: String, as type: T.Type) throws -> [T] {
        let database = database
        return try wait {
            try await database.withConnection { connection in
                let rows = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: quietLogger)
                var found: [T] = []
                for try await value in rows.decode(T.self) { found.append(value) }
                return found
            }
        }
    }
}

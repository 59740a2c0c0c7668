import CentralPostgres
import FieldDomain
import Foundation
import PostgresNIO
import SyncCore
import Testing

/// The statuses, relayed conflicts, nodes and head of ``SyncStore``, as both engines keep them.
protocol NodeAndStatusStore: Sendable {
    var nodeID: NodeID { get }
    func head() async throws -> FeedCursor
    func recordStatuses(_ statuses: [DeviceStatus], via hub: NodeID?) async throws -> Int
    func recordConflicts(_ entries: [HistoryEntry], scope: String?) async throws -> Int
    func hasSeen(_ node: NodeID) async throws -> Bool
    func isDuplicated(_ node: NodeID) async throws -> Bool
}

extension ReplicaStore: NodeAndStatusStore {}
extension PostgresStore: NodeAndStatusStore {}

/// A status as stored (the columns both engines can show the tests).
struct StoredStatus: Equatable, Sendable {
    var node: String
    var name: String
    var city: String?
    var lastSeen: Int64
    var backlog: Int64
    var via: String?
}

/// A store of one engine, and what the tests do to it by the engine's own means: stamps put in the data (a
/// merge from another node), a client's lease, the statuses and conflicts read back.
struct NodeHarness: Sendable {
    var store: any NodeAndStatusStore
    /// Merges a batch from another node at ``NodeStoreTests/now`` (`sender` as in a merge).
    var merge: @Sendable (_ batch: ChangeBatch, _ sender: NodeID?) async throws -> Void
    /// Gives a client a lease here, as its first sync does; `duplicated`: then two copies of it are found.
    var lease: @Sendable (_ node: NodeID, _ duplicated: Bool) async throws -> Void
    /// Every stored status, by node.
    var statuses: @Sendable () async throws -> [StoredStatus]
    /// The conflicts in the history, oldest first.
    var conflicts: @Sendable () async throws -> [HistoryEntry]
}

extension Engine {
    /// Runs `body` on a new store of this engine with the FieldSync schema (a replica file whose clock reads
    /// ``NodeStoreTests/now``, or a database of the suite's cluster), and removes it after.
    func withNodeStore(_ body: (NodeHarness) async throws -> Void) async throws {
        switch self {
        case .sqlite:
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("nodes-\(UUID())")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            var configuration = ReplicaConfiguration()
            configuration.clock = FixedClock(millis: UInt64(NodeStoreTests.now))
            let replica = try Replica(
                path: folder.appendingPathComponent("central.db").path, schema: .fieldSync,
                configuration: configuration, logger: quietLogger)
            try await body(Self.harness(replica, store: try ReplicaStore(replica)))
        case .postgres:
            try await withTestDatabase { database in
                try await body(Self.harness(try await PostgresStore(database, schema: .fieldSync)))
            }
        }
    }

    private static func harness(_ replica: Replica, store: ReplicaStore) -> NodeHarness {
        NodeHarness(
            store: store,
            merge: { batch, sender in
                _ = try replica.apply(batch, from: "peer", sender: sender, serverClock: NodeStoreTests.now)
            },
            lease: { node, duplicated throws in
                #expect(try replica.checkLease(Lease(previous: nil, next: 1), node: node, now: 1) == .accepted)
                if duplicated {
                    #expect(try replica.checkLease(Lease(previous: 7, next: 8), node: node, now: 2) == .duplicate)
                }
            },
            statuses: {
                // The admin's report shows every status, relayed ones with their hub.
                try Report(replica, now: NodeStoreTests.now).devices.map { device in
                    StoredStatus(
                        node: device.node, name: device.name, city: device.city == "-" ? nil : device.city,
                        lastSeen: device.lastSeen, backlog: Int64(device.backlog), via: device.via)
                }.sorted { $0.node < $1.node }
            },
            conflicts: { try replica.conflicts(afterRow: 0).entries })
    }

    private static func harness(_ store: PostgresStore) -> NodeHarness {
        let database = store.database
        return NodeHarness(
            store: store,
            merge: { batch, sender in _ = try await store.merge(batch, sender: sender, now: NodeStoreTests.now) },
            lease: { node, duplicated in
                // The row the first sync's lease move writes (PostgreSQL's lease moves are not written yet).
                let duplicate: Int64? = duplicated ? 2 : nil
                try await database.withConnection { connection in
                    _ = try await connection.query(
                        """
                        INSERT INTO _leases (node, lease, moves, duplicate_ms)
                        VALUES (\(node.description), 1, '-:1', \(duplicate))
                        """, logger: quietLogger)
                }
            },
            statuses: {
                try await database.withConnection { connection in
                    let rows = try await connection.query(
                        "SELECT node, name, city, last_seen_ms, backlog, via FROM _heartbeats ORDER BY node COLLATE \"C\"",
                        logger: quietLogger)
                    var statuses: [StoredStatus] = []
                    for try await (node, name, city, seen, backlog, via) in rows.decode(
                        (String, String, String?, Int64, Int64, String?).self)
                    {
                        statuses.append(
                            StoredStatus(node: node, name: name, city: city, lastSeen: seen, backlog: backlog, via: via)
                        )
                    }
                    return statuses
                }
            },
            conflicts: {
                try await database.withConnection { connection in
                    let rows = try await connection.query(
                        """
                        SELECT collection, record_id, field, jsonb_typeof(value), value #>> '{}', value_hlc, value_node,
                            winner_hlc, winner_node
                        FROM _history WHERE value_node <> winner_node ORDER BY id
                        """, logger: quietLogger)
                    var entries: [HistoryEntry] = []
                    for try await row in rows.decode(
                        (String, String, String, String?, String?, Int64, Int64, Int64, Int64).self)
                    {
                        let value: Value =
                            switch (row.3, row.4) {
                            case ("string", let text?): .text(text)
                            case ("number", let number?): Int64(number).map(Value.integer) ?? .real(Double(number)!)
                            default: .null
                            }
                        entries.append(
                            HistoryEntry(
                                collection: row.0, recordID: row.1, field: row.2, value: value,
                                stamp: Stamp(hlc: HLCTimestamp(storage: row.5), node: NodeID(rawValue: row.6)!),
                                winner: Stamp(hlc: HLCTimestamp(storage: row.7), node: NodeID(rawValue: row.8)!)))
                    }
                    return entries
                }
            })
    }
}

extension NodeStoreTests {
    /// What PostgreSQL keeps in other tables than SQLite: the id central had before (`_meta`), and a
    /// client's echo ranges (`_echo`: on SQLite, a client's peer entry in `_peers`).
    @Test("on PostgreSQL, central's previous id and a client with echo ranges are seen")
    func seenOnPostgres() async throws {
        try await withTestDatabase { database in
            let store = try await PostgresStore(database, schema: .fieldSync)
            #expect(try await !store.hasSeen(node(1)))
            #expect(try await !store.hasSeen(node(2)))
            try await database.withConnection { connection in
                try await connection.query(
                    "UPDATE _meta SET previous_node_id = \(node(1).rawValue) WHERE id = 1", logger: quietLogger)
                try await connection.query(
                    "INSERT INTO _echo (peer, lo, hi) VALUES (\(ClientPush.peerKey(client: node(2))), 1, 4)",
                    logger: quietLogger)
            }
            #expect(try await store.hasSeen(node(1)))
            #expect(try await store.hasSeen(node(2)))
            #expect(try await !store.hasSeen(node(3)))
        }
    }
}

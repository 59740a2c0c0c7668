import CentralPostgres
import FieldDomain
import Foundation
import PostgresNIO
import SyncCore
import Testing

/// Device statuses, relayed conflicts, the nodes seen and the feed's head, as both engines keep them: what
/// the server's status view, its hub relay, its token binding and its health check rely on.
@Suite("Statuses, conflicts and nodes, on SQLite and on PostgreSQL", .postgresCluster)
struct NodeStoreTests {
    static let t0: UInt64 = 1_780_000_000_000
    static let now = Int64(t0 + 60_000)

    @Test("a client's own status is saved; an older one never replaces a newer one", arguments: Engine.allCases)
    func ownStatuses(engine: Engine) async throws {
        try await engine.withNodeStore { harness async throws in
            let store = harness.store
            #expect(try await store.recordStatuses([status(node(1), "phone", seen: 100, backlog: 3)], via: nil) == 0)
            #expect(try await store.recordStatuses([status(node(1), "older", seen: 50)], via: nil) == 0)
            #expect(try await harness.statuses() == [stored(node(1), "phone", seen: 100, backlog: 3)])
            // The same time replaces (a status saved twice in one millisecond keeps the last).
            #expect(try await store.recordStatuses([status(node(1), "renamed", seen: 100)], via: nil) == 0)
            #expect(
                try await store.recordStatuses(
                    [status(node(1), "newer", seen: 200, backlog: 1), status(node(2), "tablet", seen: 10)], via: nil)
                    == 0)
            #expect(
                try await harness.statuses() == [
                    stored(node(1), "newer", seen: 200, backlog: 1), stored(node(2), "tablet", seen: 10),
                ])
            #expect(try await store.recordStatuses([], via: nil) == 0)
        }
    }

    @Test(
        "a hub's relayed statuses are skipped when they name the hub, the server, a direct client or another hub's device",
        arguments: Engine.allCases)
    func relayedStatuses(engine: Engine) async throws {
        try await engine.withNodeStore { harness async throws in
            let store = harness.store
            let (hub, otherHub, direct) = (node(0x40), node(0x41), node(0x50))
            try await harness.lease(direct, false)
            #expect(try await store.recordStatuses([status(node(1), "other's", seen: 10)], via: otherHub) == 0)
            #expect(try await store.recordStatuses([status(node(4), "own", seen: 10)], via: nil) == 0)
            let relayed = [
                status(hub, "the hub", seen: 20), status(store.nodeID, "the server", seen: 20),
                status(direct, "direct", seen: 20), status(node(1), "taken over", seen: 20),
                status(node(4), "syncs itself", seen: 20), status(node(2), "a", seen: 20),
                status(node(3), "b", seen: 20),
            ]
            #expect(try await store.recordStatuses(relayed, via: hub) == 5)
            // Older: skipped; newer: saved; for another city than the one stored: skipped.
            #expect(try await store.recordStatuses([status(node(2), "older", seen: 5)], via: hub) == 1)
            #expect(try await store.recordStatuses([status(node(2), "newer", seen: 30)], via: hub) == 0)
            #expect(try await store.recordStatuses([status(node(3), "moved", city: "Tunis", seen: 30)], via: hub) == 1)
            // A node named three times in one relay: in the order given.
            let repeated = [
                status(node(5), "x", seen: 10), status(node(5), "y", seen: 5), status(node(5), "z", seen: 20),
            ]
            #expect(try await store.recordStatuses(repeated, via: hub) == 1)
            // A device's own status takes over from a hub's.
            #expect(try await store.recordStatuses([status(node(3), "itself", seen: 40)], via: nil) == 0)
            #expect(try await store.recordStatuses([status(node(3), "relayed", seen: 50)], via: hub) == 1)
            #expect(
                try await harness.statuses() == [
                    stored(node(1), "other's", seen: 10, via: otherHub), stored(node(2), "newer", seen: 30, via: hub),
                    stored(node(3), "itself", seen: 40), stored(node(4), "own", seen: 10),
                    stored(node(5), "z", seen: 20, via: hub),
                ])
        }
    }

    @Test("relayed conflicts are kept once; into a scope, only those about its records", arguments: Engine.allCases)
    func conflicts(engine: Engine) async throws {
        try await engine.withNodeStore { harness async throws in
            let store = harness.store
            try await harness.merge(cityBatch(), nil)
            let sfax: [HistoryEntry] = [
                conflict("families", "F1", "phone", "0600"), conflict("families", "F2", "phone", "0700"),
                conflict("deliveries", "D1", "quantity", 3), conflict("nowhere", "X1", "name", "x"),
                conflict("entitlements", "E1", "item", "rice"), conflict("families", "F9", "phone", nil),
            ]
            #expect(try await store.recordConflicts(sfax, scope: "Sfax") == 2)
            #expect(try await store.recordConflicts(sfax, scope: "Sfax") == 0)
            #expect(try await store.recordConflicts(sfax, scope: "Gabès") == 0)
            #expect(try await store.recordConflicts([], scope: nil) == 0)
            // The admin's: every collection, known here or not; one entry given twice is kept once.
            let admin = [
                conflict("families", "F2", "phone", "0700"), conflict("nowhere", "X1", "name", "x"),
                conflict("families", "F1", "phone", "0600"), conflict("families", "F2", "phone", "0700"),
                conflict("entitlements", "E1", "window_days", .real(2.5)), conflict("families", "F9", "notes", nil),
            ]
            #expect(try await store.recordConflicts(admin, scope: nil) == 4)
            #expect(
                try await harness.conflicts() == [
                    conflict("families", "F1", "phone", "0600"), conflict("deliveries", "D1", "quantity", 3),
                    conflict("families", "F2", "phone", "0700"), conflict("nowhere", "X1", "name", "x"),
                    conflict("entitlements", "E1", "window_days", .real(2.5)), conflict("families", "F9", "notes", nil),
                ])
        }
    }

    @Test(
        "a node is seen as the server, a client with a lease, a status, in the history or in the data",
        arguments: Engine.allCases)
    func seen(engine: Engine) async throws {
        try await engine.withNodeStore { harness async throws in
            let store = harness.store
            #expect(try await store.hasSeen(store.nodeID))
            for raw in 1...9 { #expect(try await !store.hasSeen(node(Int64(raw))), "node \(raw) on an empty store") }
            try await harness.lease(node(1), false)
            _ = try await store.recordStatuses([status(node(2), "own", seen: 10)], via: nil)
            _ = try await store.recordStatuses([status(node(3), "relayed", seen: 10)], via: node(9))
            _ = try await store.recordConflicts([conflict("families", "F1", "phone", "0600")], scope: nil)
            // Profiles: the record's stamp and a field's own; facts: the row's stamp. The sender relays them.
            try await harness.merge(cityBatch(), node(8))
            for raw in [1, 2, 3, 4, 5, 6, 7, 0x31, 0x32] {
                #expect(try await store.hasSeen(node(Int64(raw))), "node \(raw)")
            }
            // A hub that relayed a status, the sender of stamps it did not make: not seen for that.
            #expect(try await !store.hasSeen(node(9)))
            #expect(try await !store.hasSeen(node(8)))
            #expect(try await !store.hasSeen(node(0x7777)))
        }
    }

    @Test("a node is duplicated once two copies of it were found", arguments: Engine.allCases)
    func duplicated(engine: Engine) async throws {
        try await engine.withNodeStore { harness async throws in
            let store = harness.store
            #expect(try await !store.isDuplicated(node(1)))
            try await harness.lease(node(1), false)
            try await harness.lease(node(2), true)
            #expect(try await !store.isDuplicated(node(1)))
            #expect(try await store.isDuplicated(node(2)))
            #expect(try await !store.isDuplicated(node(3)))
        }
    }

    @Test(
        "the head is where a client that pulled everything stands, and moves with a merge", arguments: Engine.allCases)
    func head(engine: Engine) async throws {
        try await engine.withNodeStore { harness async throws in
            let store = harness.store
            #expect(try await store.head() == FeedCursor(0))
            try await harness.merge(cityBatch(), nil)
            #expect(try await store.head() == FeedCursor(3))
            // A newer phone for F1: one change more.
            let phone = Stamp(hlc: HLCTimestamp(millis: Self.t0 + 1, counter: 0), node: node(5))
            let edit = CollectionChanges(
                name: "families", fields: ["phone"],
                records: [RecordChange(id: "F1", stamp: phone, cells: [Cell(field: 0, value: "0501")])])
            try await harness.merge(ChangeBatch([edit]), nil)
            #expect(try await store.head() == FeedCursor(4))
            // Statuses and conflicts are not changes of the feed.
            _ = try await store.recordStatuses([status(node(1), "own", seen: 10)], via: nil)
            _ = try await store.recordConflicts([conflict("families", "F1", "phone", "0600")], scope: nil)
            #expect(try await store.head() == FeedCursor(4))
        }
    }
}

// MARK: Fixtures

/// Families F1 (Sfax: stamped by node 4, its phone by node 5) and F2 (Tunis, node 6), and delivery D1
/// (Sfax, node 7) to F1.
func cityBatch() -> ChangeBatch {
    let familyFields = ["city", "reference", "head_name", "phone"]
    let deliveryFields = ["city", "family", "item", "quantity", "delivered_at", "volunteer"]
    func stamp(_ raw: Int64) -> Stamp {
        Stamp(hlc: HLCTimestamp(millis: NodeStoreTests.t0, counter: 0), node: node(raw))
    }
    let families = CollectionChanges(
        name: "families", fields: familyFields,
        records: [
            RecordChange(
                id: "F1", stamp: stamp(4),
                cells: [
                    Cell(field: 0, value: "Sfax"), Cell(field: 1, value: "SFX-1"), Cell(field: 2, value: "Amina"),
                    Cell(field: 3, value: "0500", stamp: stamp(5)),
                ]),
            RecordChange(
                id: "F2", stamp: stamp(6),
                cells: [Cell(field: 0, value: "Tunis"), Cell(field: 1, value: "TUN-1"), Cell(field: 2, value: "Hédi")]),
        ])
    let deliveries = CollectionChanges(
        name: "deliveries", fields: deliveryFields,
        records: [
            RecordChange(
                id: "D1", stamp: stamp(7),
                cells: [
                    Cell(field: 0, value: "Sfax"), Cell(field: 1, value: "F1"), Cell(field: 2, value: "food_pack"),
                    Cell(field: 3, value: 1), Cell(field: 4, value: .integer(Int64(NodeStoreTests.t0))),
                    Cell(field: 5, value: "Sami"),
                ])
        ])
    return ChangeBatch([families, deliveries])
}

/// A value of node 0x31 that lost to node 0x32's.
func conflict(_ collection: String, _ id: String, _ field: String, _ value: Value) -> HistoryEntry {
    HistoryEntry(
        collection: collection, recordID: id, field: field, value: value,
        stamp: Stamp(hlc: HLCTimestamp(millis: NodeStoreTests.t0 - 10, counter: 0), node: node(0x31)),
        winner: Stamp(hlc: HLCTimestamp(millis: NodeStoreTests.t0, counter: 1), node: node(0x32)))
}

func status(_ node: NodeID, _ name: String, city: String? = "Sfax", seen: Int64, backlog: Int64 = 0) -> DeviceStatus {
    DeviceStatus(
        node: node, name: name, role: "device", city: city, heartbeat: Heartbeat(app: "1.4.0", backlog: backlog),
        clockOffsetMillis: 0, lastSeenMillis: seen)
}

func stored(
    _ node: NodeID, _ name: String, city: String? = "Sfax", seen: Int64, backlog: Int64 = 0, via: NodeID? = nil
) -> StoredStatus {
    StoredStatus(
        node: node.description, name: name, city: city, lastSeen: seen, backlog: backlog, via: via?.description)
}

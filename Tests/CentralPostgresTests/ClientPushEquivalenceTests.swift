import CentralPostgres
import FieldDomain
import Foundation
import SyncCore
import Testing

/// A client's push gives the same outcome on PostgreSQL as on SQLite (the domain's rules aside: the
/// PostgreSQL store does not check them yet, so both run the schema without them): devices of two cities
/// and the admin push random batches (records of the other city, new families without their required
/// fields or their city, deliveries naming another city's family, unknown fields, tombstones) with their
/// lease moves. Each push gets the same report (records, conflicts, refusals and whether each stays, head)
/// or the same error, both stores dump the same, and each device's feed is the same.
@Suite("PostgreSQL client pushes", .postgresCluster)
struct ClientPushEquivalenceTests {
    static let schema = try! Schema(Schema.fieldSync.collections)
    static let now = MergeEquivalenceTests.now

    @Test(arguments: 0..<4)
    func randomPushesGiveTheSameOutcomeOnBothEngines(part: Int) async throws {
        try await withTestDatabase { database in
            let postgres = try await PostgresStore(database, schema: Self.schema)
            let sqlite = try ReplicaStore(sqliteCentral(Self.schema))
            var generator = MergeBatchGenerator(seed: 90_000 + UInt64(part))
            let clients: [(node: NodeID, scope: String?)] = [
                (MergeBatchGenerator.nodes[0], "Fès"), (MergeBatchGenerator.nodes[1], "Rabat"),
                (MergeBatchGenerator.nodes[2], nil),
            ]
            var leases: [NodeID: UInt64] = [:]
            var outcomes: [String: Int] = [:]
            for step in 0..<150 {
                let client = clients[generator.next(clients.count)]
                let (batch, _) = generator.batch()
                let next = UInt64(step + 1)
                let lease = LeaseMove(
                    Lease(previous: leases[client.node], next: next), node: client.node, now: Self.now)
                let push = ClientPush(
                    batch: Self.stampedBy(client.node, batch), client: client.node, scope: client.scope, lease: lease,
                    pruneEchoBelow: generator.next(4) == 0 ? Int64(generator.next(50)) : nil, now: Self.now)
                let expected = await Self.result { try await sqlite.apply(push) }
                let actual = await Self.result { try await postgres.apply(push) }
                switch (expected, actual) {
                case (.success(let expected), .success(let actual)):
                    #expect(actual == expected, "part \(part) step \(step)")
                    leases[client.node] = next
                    outcomes["applied", default: 0] += 1
                    if !expected.refused.isEmpty { outcomes["refused", default: 0] += 1 }
                case (.failure(let expected as SyncError), .failure(let actual as SyncError)):
                    #expect(actual.code == expected.code, "part \(part) step \(step)")
                    #expect(actual.message == expected.message, "part \(part) step \(step)")
                    outcomes[expected.code.rawValue, default: 0] += 1
                default:
                    Issue.record("part \(part) step \(step): SQLite \(expected), PostgreSQL \(actual)")
                    return
                }
            }
            #expect(try await postgres.dump() == sqlite.replica.dump(), "part \(part)")
            for client in clients {
                let filter = FeedFilter(
                    scope: client.scope, excludingEchoOf: ClientPush.peerKey(client: client.node))
                let expected = try sqlite.replica.changes(since: .start, limit: 100_000, filter: filter)
                let page = try await postgres.changes(since: .start, limit: 100_000, filter: filter)
                #expect(page.batch == expected.batch, "part \(part): the feed of \(client.node)")
                #expect(page.cursor == expected.cursor, "part \(part): the feed of \(client.node)")
            }
            // Refusals were met, not only clean pushes.
            #expect(outcomes["refused", default: 0] > 5, "\(outcomes)")
        }
    }

    static func result<T>(_ body: () async throws -> T) async -> Result<T, any Error> {
        do { return .success(try await body()) } catch { return .failure(error) }
    }

    /// A device pushes only what it stamped: its batch's stamps are its own.
    static func stampedBy(_ node: NodeID, _ batch: ChangeBatch) -> ChangeBatch {
        var batch = batch
        for group in batch.collections.indices {
            for record in batch.collections[group].records.indices {
                batch.collections[group].records[record].stamp.node = node
                for cell in batch.collections[group].records[record].cells.indices {
                    batch.collections[group].records[record].cells[cell].stamp?.node = node
                }
            }
        }
        return batch
    }
}

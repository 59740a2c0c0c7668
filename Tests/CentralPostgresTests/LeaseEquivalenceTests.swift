import CentralPostgres
import FieldDomain
import Foundation
import SyncCore
import Testing

/// Lease moves decide the same on PostgreSQL as on SQLite: random sequences of moves (first requests,
/// moves that follow, retries, late copies, requests sent behind others, two copies of a node) give the
/// same verdict, move by move.
@Suite("PostgreSQL leases", .postgresCluster)
struct LeaseEquivalenceTests {
    @Test func randomMovesGiveTheSameVerdictsOnBothEngines() async throws {
        try await withTestDatabase { database in
            let store = try await PostgresStore(database, schema: .fieldSync)
            let replica = try Replica(inMemory: .fieldSync)
            var random = MergeBatchGenerator(seed: 42)
            var verdicts: [LeaseCheck: Int] = [:]
            // What each node's client holds: mostly honest moves, some retries, stale and forged ones.
            var held: [UInt64?] = Array(repeating: nil, count: 40)
            for step in 0..<2_000 {
                let index = random.next(held.count)
                let node = NodeID(rawValue: Int64(1 + index))!
                let fresh = UInt64(1 + random.next(1_000))
                let move: Lease
                switch random.next(8) {
                case 0: move = Lease(previous: UInt64(1 + random.next(1_000)), next: fresh)  // another copy
                // Sent behind a request not applied yet: moves on from that one's next.
                case 1: move = Lease(previous: UInt64(2_000 + random.next(9)), next: fresh, after: held[index])
                case 2: move = Lease(previous: held[index], next: nil)  // no move
                default: move = Lease(previous: held[index], next: fresh)
                }
                let expected = try replica.checkLease(move, node: node, now: Int64(step))
                let verdict = try await store.moveLease(LeaseMove(move, node: node, now: Int64(step)))
                #expect(verdict == expected, "step \(step): \(move) of \(node)")
                if expected == .accepted, let next = move.next { held[index] = next }
                verdicts[verdict, default: 0] += 1
            }
            // Every verdict was met.
            #expect(verdicts.count == 3, "\(verdicts)")
        }
    }
}

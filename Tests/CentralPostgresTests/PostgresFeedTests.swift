import CentralPostgres
import FieldDomain
import Foundation
import SyncCore
import Synchronization
import Testing

/// The feed stays gap-free with several instances writing at once (decision record 0013): 2 to 4 stores,
/// each with its own pool on one database (as separate `sync-server` instances), writers pushing short
/// and long batches through any of them, readers pulling through any of them in a loop. Every delivery
/// written reaches every reader exactly once, and every reader ends with central's state.
@Suite("PostgreSQL feed under concurrent writers", .postgresCluster)
struct PostgresFeedTests {
    /// One schedule at a time: each opens up to 4 pools, and a cluster serves 100 connections.
    @Test(.serialized, arguments: 0..<20)
    func everyChangeReachesEveryReaderExactlyOnce(schedule: Int) async throws {
        let configuration = try await makeDatabaseConfiguration(poolSize: 4)
        var random = MergeBatchGenerator(seed: 7_000 + UInt64(schedule))
        let instances = 2 + schedule % 3
        var databases: [CentralPostgres.PostgresDatabase] = []
        var opened: [PostgresStore] = []
        for _ in 0..<instances {
            let database = try CentralPostgres.PostgresDatabase(configuration, logger: quietLogger)
            databases.append(database)
            opened.append(try await PostgresStore(database, schema: .fieldSync))
        }
        let stores = opened
        let plans = (0..<4).map { writer in
            (0..<(6 + random.next(6))).map { _ in
                // Mostly short transactions, some long ones (hundreds of records).
                (
                    instance: random.next(instances),
                    records: random.next(4) == 0 ? 200 + random.next(300) : 1 + random.next(3)
                )
            }
        }
        let progress = Progress()
        try await withThrowingTaskGroup(of: [String: Int]?.self) { group in
            for (writer, plan) in plans.enumerated() {
                group.addTask {
                    for (index, step) in plan.enumerated() {
                        let batch = Self.deliveries(writer: writer, batch: index, count: step.records)
                        _ = try await stores[step.instance].merge(batch, sender: nil, now: Self.now())
                        progress.written.withLock { $0.formUnion(batch.collections[0].records.map(\.id)) }
                    }
                    progress.writersDone.add(1, ordering: .sequentiallyConsistent)
                    return nil
                }
            }
            for reader in 0..<3 {
                let seed = UInt64(schedule * 10 + reader)
                group.addTask {
                    var random = MergeBatchGenerator(seed: seed)
                    var seen: [String: Int] = [:]
                    var cursor = FeedCursor.start
                    while true {
                        let finished = progress.writersDone.load(ordering: .sequentiallyConsistent) == plans.count
                        let page = try await stores[random.next(stores.count)].changes(
                            since: cursor, limit: 1 + random.next(40), filter: .all)
                        for group in page.batch.collections where group.name == "deliveries" {
                            for record in group.records { seen[record.id, default: 0] += 1 }
                        }
                        cursor = page.cursor
                        if finished, !page.hasMore { return seen }
                        if !page.hasMore { try await Task.sleep(for: .milliseconds(random.next(5))) }
                    }
                }
            }
            // A reader returns once every writer is done: what was written is final by then.
            for try await result in group {
                guard let seen = result else { continue }
                let ids = progress.written.withLock { $0 }
                #expect(Set(seen.keys) == ids, "schedule \(schedule): missed \(ids.subtracting(seen.keys).count)")
                #expect(seen.values.allSatisfy { $0 == 1 }, "schedule \(schedule): a delivery sent twice")
            }
        }
        for database in databases { await database.shutdown() }
    }

    /// What the writers wrote (committed), and how many are done.
    final class Progress: Sendable {
        let written = Mutex<Set<String>>([])
        let writersDone = Atomic<Int>(0)
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// `count` new deliveries of one writer (its own node and ids).
    static func deliveries(writer: Int, batch: Int, count: Int) -> ChangeBatch {
        let node = NodeID(rawValue: Int64(0x5000 + writer))!
        let millis = UInt64(now() - 60_000)
        let fields = ["city", "family", "item", "quantity", "delivered_at", "volunteer"]
        let records = (0..<count).map { index in
            RecordChange(
                id: "W\(writer)-\(batch)-\(index)",
                stamp: Stamp(hlc: HLCTimestamp(millis: millis, counter: UInt16(index % 60_000)), node: node),
                cells: [
                    Cell(field: 0, value: "Fès"), Cell(field: 1, value: "F1"), Cell(field: 2, value: "food_pack"),
                    Cell(field: 3, value: 1), Cell(field: 4, value: .integer(Int64(millis))),
                    Cell(field: 5, value: .text("v\(writer)")),
                ])
        }
        return ChangeBatch([CollectionChanges(name: "deliveries", fields: fields, records: records)])
    }
}

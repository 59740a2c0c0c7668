import CentralPostgres
import FieldDomain
import Foundation
import SyncCore
import Testing

/// A merge from another replica gives the same state on PostgreSQL as on SQLite: the same random batches
/// (concurrent field edits with their own stamps, tombstones, unknown fields, deliveries sent twice, two
/// different facts under one id, a node's older writes arriving after its newer ones) applied to both
/// dump the same text, and count the same conflicts.
@Suite("PostgreSQL merge equivalence", .postgresCluster)
struct MergeEquivalenceTests {
    static let t0: UInt64 = 1_780_000_000_000
    static let now = Int64(t0 + 86_400_000)

    /// 200 seeds, 8 batches each, 25 seeds on one pair of stores (so that later seeds meet earlier state).
    @Test(arguments: 0..<8)
    func randomBatchesDumpTheSameOnBothEngines(part: Int) async throws {
        try await withTestDatabase { database in
            let store = try await PostgresStore(database, schema: .fieldSync)
            let replica = try sqliteCentral(.fieldSync)
            for seed in (part * 25)..<(part * 25 + 25) {
                var generator = MergeBatchGenerator(seed: UInt64(seed))
                for step in 0..<8 {
                    let (batch, sender) = generator.batch()
                    let expected = try replica.apply(batch, from: "peer", sender: sender, serverClock: Self.now)
                    let report = try await store.merge(batch, sender: sender, now: Self.now)
                    #expect(report.records == expected.records, "seed \(seed) step \(step)")
                    #expect(report.conflicts == expected.conflicts, "seed \(seed) step \(step)")
                    #expect(report.refused == expected.refused, "seed \(seed) step \(step)")
                    #expect(report.cursor == expected.cursor, "seed \(seed) step \(step)")
                }
                let (sqlite, postgres) = (try replica.dump(), try await store.dump())
                #expect(postgres == sqlite, "seed \(seed)")
                if postgres != sqlite { return }
                // The feed: the same pages from any cursor, whole or in one city, in pages of any size.
                var cursor = FeedCursor(base: Int64(generator.next(20)), position: Int64(generator.next(40)))
                let filter = generator.next(2) == 0 ? FeedFilter.all : FeedFilter(scope: "Fès")
                let limit = 1 + generator.next(6)
                for _ in 0..<100 {
                    let expected = try replica.changes(since: cursor, limit: limit, filter: filter)
                    let page = try await store.changes(since: cursor, limit: limit, filter: filter)
                    #expect(page.batch == expected.batch, "seed \(seed) at \(cursor)")
                    #expect(page.cursor == expected.cursor, "seed \(seed) at \(cursor)")
                    #expect(page.hasMore == expected.hasMore, "seed \(seed) at \(cursor)")
                    #expect(page.left == expected.left, "seed \(seed) at \(cursor)")
                    if page.batch != expected.batch || page.cursor != expected.cursor || !expected.hasMore { break }
                    cursor = expected.cursor
                }
            }
        }
    }

    /// A batch with a stamp far ahead of the server's clock changes nothing on either engine, and both
    /// refuse it the same way.
    @Test func aStampTooFarAheadChangesNothing() async throws {
        try await withTestDatabase { database in
            let store = try await PostgresStore(database, schema: .fieldSync)
            var generator = MergeBatchGenerator(seed: 1)
            let (batch, sender) = generator.batch()
            _ = try await store.merge(batch, sender: sender, now: Self.now)
            let before = try await store.dump()
            var ahead = generator.batch().batch
            for group in ahead.collections.indices {
                for record in ahead.collections[group].records.indices {
                    ahead.collections[group].records[record].stamp.hlc = HLCTimestamp(
                        millis: UInt64(Self.now) + 86_400_000, counter: 0)
                }
            }
            let error = await #expect(throws: SyncError.self) {
                try await store.merge(ahead, sender: nil, now: Self.now)
            }
            #expect(error?.code == .clockDrift)
            #expect(try await store.dump() == before)
        }
    }
}

/// An in-memory SQLite central whose clock reads `MergeEquivalenceTests.now`, to compare PostgreSQL with.
func sqliteCentral(_ schema: Schema) throws -> Replica {
    var configuration = ReplicaConfiguration()
    configuration.clock = FixedClock(millis: UInt64(MergeEquivalenceTests.now))
    configuration.durability = .off
    return try Replica(inMemory: schema, configuration: configuration)
}

/// A fixed reading of the wall clock.
struct FixedClock: PhysicalClock {
    let millis: UInt64
    func nowMillis() -> UInt64 { millis }
}

/// Random batches over a few ids, nodes and clock readings, so that writes collide. A stamp names one
/// write: the value of a register at a stamp is a function of the stamp.
struct MergeBatchGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }

    mutating func next(_ bound: Int) -> Int {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return Int(state % UInt64(bound))
    }

    static let nodes = (1...3).map { NodeID(rawValue: Int64($0) * 0x1111)! }
    static let families = (1...6).map { "F\($0)" }
    static let familyFields = ["city", "reference", "head_name", "phone", "household_size", "notes", "whatsapp"]
    static let deliveryFields = ["city", "family", "item", "quantity", "delivered_at", "volunteer", "gps"]

    mutating func stamp() -> Stamp {
        Stamp(
            hlc: HLCTimestamp(millis: MergeEquivalenceTests.t0 + UInt64(next(12)), counter: UInt16(next(3))),
            node: Self.nodes[next(Self.nodes.count)])
    }

    static func value(_ field: String, record: String, stamp: Stamp) -> Value {
        let tag = "\(record)-\(stamp.hlc.storage % 100_000)-\(stamp.node.rawValue % 97)"
        switch field {
        case "city": return (stamp.hlc.storage % 2 == 0) ? "Fès" : "Rabat"
        case "household_size", "quantity": return .integer(Int64(stamp.hlc.storage % 9) + 1)
        case "delivered_at": return .integer(Int64(stamp.hlc.millis))
        case "_deleted": return .integer(1)
        case "whatsapp", "gps":
            return stamp.hlc.storage % 3 == 0 ? .real(Double(stamp.hlc.storage % 1000) / 8) : .text(tag)
        default: return .text("\(field) \(tag) — عائلة")
        }
    }

    mutating func familyGroup() -> CollectionChanges {
        let fields = Self.familyFields + (next(4) == 0 ? ["_deleted"] : [])
        var group = CollectionChanges(name: "families", fields: fields)
        for _ in 0..<(1 + next(4)) {
            let id = Self.families[next(Self.families.count)]
            let recordStamp = stamp()
            var chosen = Array(fields.indices)
            for index in chosen.indices.reversed() { chosen.swapAt(index, next(index + 1)) }
            let cells = chosen.prefix(1 + next(4)).map { index in
                let own: Stamp? = next(2) == 0 ? stamp() : nil
                return Cell(
                    field: index, value: Self.value(fields[index], record: id, stamp: own ?? recordStamp), stamp: own)
            }
            group.records.append(RecordChange(id: id, stamp: recordStamp, cells: cells))
        }
        return group
    }

    mutating func deliveryGroup() -> CollectionChanges {
        var group = CollectionChanges(name: "deliveries", fields: Self.deliveryFields)
        for _ in 0..<(1 + next(3)) {
            // A few ids, different stamps: sometimes two different facts under one id.
            let id = "D\(next(8))"
            let recordStamp = stamp()
            let cells = Self.deliveryFields.enumerated().compactMap { index, field -> Cell? in
                field == "gps" && next(2) == 0
                    ? nil : Cell(field: index, value: Self.value(field, record: id, stamp: recordStamp))
            }
            group.records.append(RecordChange(id: id, stamp: recordStamp, cells: cells))
        }
        return group
    }

    mutating func batch() -> (batch: ChangeBatch, sender: NodeID?) {
        var groups: [CollectionChanges] = []
        for _ in 0..<(1 + next(3)) { groups.append(next(3) == 0 ? deliveryGroup() : familyGroup()) }
        return (ChangeBatch(groups), next(2) == 0 ? nil : Self.nodes[next(Self.nodes.count)])
    }
}

import FieldDomain
import GRDB
import SyncCore
import Testing

/// Replicas that write at random (concurrent edits of the same family fields, deletes, deliveries,
/// voids) and sync pairwise at random through the feed, then exchange everything: all identical, and
/// no write lost. 500 seeds; a failure names its seed.
@Suite("Convergence")
struct ConvergenceTests {
    static let seeds = 500

    struct Write {
        var replica: Int
        var collection: String
        var id: String
        var field: String
        var value: Value
        var stamp: Stamp
    }

    struct World {
        var rng: SeededGenerator
        var replicas: [Replica] = []
        var clocks: [ManualClock] = []
        /// cursors[a][b]: how far replica a has pulled from replica b.
        var cursors: [[FeedCursor]] = []
        var writes: [Write] = []
        var facts: Set<String> = []

        init(seed: UInt64) throws {
            rng = SeededGenerator(seed: seed)
            let count = Int.random(in: 3...5, using: &rng)
            for index in 0..<count {
                // Clocks skewed by up to ±2 minutes: within the 5-minute drift bound of one another.
                let skew = Int64.random(in: -120_000...120_000, using: &rng)
                let clock = ManualClock(UInt64(Int64(BatchGenerator.t0) + skew))
                clocks.append(clock)
                replicas.append(try makeReplica(clock: clock, node: node(Int64(index + 1) * 1_000_003)))
            }
            cursors = Array(repeating: Array(repeating: .start, count: count), count: count)
        }

        func liveFamilies(_ replica: Replica) throws -> [String] {
            try replica.read { db in
                try String.fetchAll(db, sql: "SELECT id FROM families WHERE _deleted IS NULL ORDER BY id")
            }
        }

        func deliveries(_ replica: Replica) throws -> [(String, String)] {
            try replica.read { db in
                try Row.fetchAll(db, sql: "SELECT id, city FROM deliveries ORDER BY id").map { ($0[0], $0[1]) }
            }
        }

        mutating func recordWrite(_ index: Int, _ collection: String, _ id: String, _ values: [String: Value]) throws {
            let stamps = try replicas[index].stamps(collection, id: id)
            for (field, value) in values {
                writes.append(
                    Write(
                        replica: index, collection: collection, id: id, field: field, value: value,
                        stamp: stamps[field]!))
            }
        }

        mutating func step() throws {
            let index = Int.random(in: 0..<replicas.count, using: &rng)
            let replica = replicas[index]
            clocks[index].advance(UInt64.random(in: 0...3, using: &rng))
            let families = try liveFamilies(replica)
            let roll = Int.random(in: 0..<100, using: &rng)
            let cities = ["Oran", "Tlemcen"]
            switch roll {
            case 0..<20 where families.count < 12 || roll < 5:
                let values: [String: Value] = [
                    "city": .text(cities.randomElement(using: &rng)!),
                    "reference": .text("R\(Int.random(in: 0..<99, using: &rng))"),
                    "head_name": .text("Name \(Int.random(in: 0..<999, using: &rng))"),
                ]
                let id = try replica.write { try $0.create("families", values: values) }
                try recordWrite(index, "families", id, values)
            case 0..<55 where !families.isEmpty:
                let id = families.randomElement(using: &rng)!
                var values: [String: Value] = [:]
                for field in ["phone", "notes", "household_size", "head_name", "district"].shuffled(using: &rng)
                    .prefix(Int.random(in: 1...3, using: &rng))
                {
                    values[field] =
                        field == "household_size"
                        ? .integer(Int64.random(in: 1...12, using: &rng))
                        : .text("\(field)-\(Int.random(in: 0..<1000, using: &rng))")
                }
                try replica.write { try $0.editFamily(id, values) }
                try recordWrite(index, "families", id, values)
            case 55..<60 where !families.isEmpty:
                let id = families.randomElement(using: &rng)!
                try replica.write { try $0.deleteFamily(id) }
                try recordWrite(index, "families", id, ["_deleted": 1])
            case 60..<78 where !families.isEmpty:
                let family = families.randomElement(using: &rng)!
                let delivery = NewDelivery(
                    city: cities.randomElement(using: &rng)!, family: family,
                    item: DeliveryItem.allCases.randomElement(using: &rng)!,
                    quantity: Int.random(in: 1...3, using: &rng),
                    campaign: "c\(Int.random(in: 1...2, using: &rng))", deliveredAt: clocks[index].nowMillis(),
                    volunteer: "v\(index)")
                let id = try replica.write { try $0.logDelivery(delivery) }
                facts.insert("deliveries/" + id)
            case 78..<82:
                guard let (delivery, city) = try deliveries(replica).randomElement(using: &rng) else { break }
                let id = try replica.write {
                    try $0.voidDelivery(
                        delivery, city: city, reason: "wrong family", volunteer: "v\(index)",
                        at: clocks[index].nowMillis())
                }
                facts.insert("delivery_voids/" + id)
            default:
                var source = Int.random(in: 0..<replicas.count - 1, using: &rng)
                if source >= index { source += 1 }
                cursors[index][source] = try pull(
                    from: replicas[source], into: replica, since: cursors[index][source],
                    limit: Int.random(in: 1...8, using: &rng))
            }
        }

        /// Every replica pulls from every other until nothing changes.
        mutating func exchangeAll() throws {
            for _ in 0..<replicas.count + 1 {
                for target in replicas.indices {
                    for source in replicas.indices where source != target {
                        cursors[target][source] = try pull(
                            from: replicas[source], into: replicas[target], since: cursors[target][source])
                    }
                }
            }
        }
    }

    @Test func randomWritesAndSyncsConverge() throws {
        for index in 0..<Self.seeds {
            let seed = baseSeed &+ 40_000 &+ UInt64(index)
            var world = try World(seed: seed)
            for _ in 0..<Int.random(in: 20...60, using: &world.rng) { try world.step() }
            try world.exchangeAll()
            let dumps = try world.replicas.map { try $0.dump() }
            #expect(Set(dumps).count == 1, "seed \(seed): replicas differ after a full exchange")
            // No lost write: on the replica that committed it, each write is current or kept in history
            // under a greater stamp.
            for write in world.writes {
                let replica = world.replicas[write.replica]
                let current = try replica.stamps(write.collection, id: write.id)[write.field]
                if current == write.stamp { continue }
                let kept = try replica.history(collection: write.collection, recordID: write.id).contains {
                    $0.field == write.field && $0.stamp == write.stamp && $0.value == write.value
                        && $0.winner > write.stamp
                }
                #expect(kept, "seed \(seed): write \(write.field)=\(write.value) at \(write.stamp) lost")
            }
            // Every fact reached every replica.
            for replica in world.replicas {
                for fact in world.facts {
                    let parts = fact.split(separator: "/").map(String.init)
                    #expect(try replica.record(parts[0], id: parts[1]) != nil, "seed \(seed): \(fact) missing")
                }
            }
        }
    }
}

import SyncCore
import Testing

/// The merge is idempotent, commutative and associative, and ignores old stamps: checked on random
/// batches, 1,000 cases each. A failure names its seed; `FIELDSYNC_SEED=<base>` replays the run.
@Suite("Merge algebra")
struct AlgebraTests {
    static let cases = 1_000

    @Test func applyingABatchTwiceEqualsApplyingItOnce() throws {
        for index in 0..<Self.cases {
            let seed = baseSeed &+ UInt64(index)
            var generator = BatchGenerator(seed: seed)
            let prefix = (0..<Int.random(in: 0...2, using: &generator.rng)).map { _ in generator.batch() }
            let batch = generator.batch()
            let once = try makeMergeReplica()
            let twice = try makeMergeReplica()
            for replica in [once, twice] { for earlier in prefix { try replica.apply(earlier) } }
            try once.apply(batch)
            try twice.apply(batch)
            let head = try twice.headCursor()
            try twice.apply(batch)
            #expect(try once.dump() == twice.dump(), "seed \(seed)")
            #expect(try twice.changes(since: head).batch.isEmpty, "seed \(seed): a replayed batch made feed changes")
            // History is local bookkeeping: a replayed write may be recorded as a conflict it now loses,
            // but no entry of the first application disappears.
            #expect(Set(try once.history()).isSubset(of: Set(try twice.history())), "seed \(seed)")
        }
    }

    @Test func anyOrderOfBatchesGivesTheSameState() throws {
        for index in 0..<Self.cases {
            let seed = baseSeed &+ 10_000 &+ UInt64(index)
            var generator = BatchGenerator(seed: seed)
            let batches = (0..<Int.random(in: 2...5, using: &generator.rng)).map { _ in generator.batch() }
            var shuffled = batches
            shuffled.shuffle(using: &generator.rng)
            let inOrder = try makeMergeReplica()
            let permuted = try makeMergeReplica()
            let grouped = try makeMergeReplica()
            for batch in batches { try inOrder.apply(batch) }
            for batch in shuffled { try permuted.apply(batch) }
            // Associativity: (a · b) · c = a · (b · c) — here, everything merged into one batch first.
            try grouped.apply(concatenate(shuffled.reversed()))
            let expected = try inOrder.dump()
            #expect(try permuted.dump() == expected, "seed \(seed)")
            #expect(try grouped.dump() == expected, "seed \(seed)")
            // No write silently lost, whatever the order: every write that is not current is kept in
            // history, or was superseded by a later write of its own node (which keeps it).
            for replica in [inOrder, permuted, grouped] {
                let history = Set(try replica.history().map { "\($0.recordID)/\($0.field)/\($0.stamp)" })
                for write in writes(in: batches) {
                    let current = try replica.stamps("families", id: write.id)[write.field]
                    let superseded = writes(in: batches).contains {
                        $0.id == write.id && $0.field == write.field && $0.stamp.node == write.stamp.node
                            && $0.stamp > write.stamp
                    }
                    #expect(
                        current == write.stamp || superseded
                            || history.contains("\(write.id)/\(write.field)/\(write.stamp)"),
                        "seed \(seed): \(write) lost")
                }
            }
        }
    }

    /// Every family register write in the batches.
    func writes(in batches: [ChangeBatch]) -> [(id: String, field: String, stamp: Stamp)] {
        batches.flatMap(\.collections).filter { $0.name == "families" }.flatMap { group in
            group.records.flatMap { record in
                record.cells.map { (record.id, group.fields[$0.field], $0.stamp ?? record.stamp) }
            }
        }
    }

    @Test func anySplitOfABatchGivesTheSameState() throws {
        for index in 0..<Self.cases {
            let seed = baseSeed &+ 20_000 &+ UInt64(index)
            var generator = BatchGenerator(seed: seed)
            let batch = generator.batch()
            let parts = generator.split(batch, into: Int.random(in: 2...4, using: &generator.rng))
            let whole = try makeMergeReplica()
            let pieces = try makeMergeReplica()
            try whole.apply(batch)
            for part in parts { try pieces.apply(part) }
            #expect(try whole.dump() == pieces.dump(), "seed \(seed)")
        }
    }

    @Test func anOldStampIsANoOp() throws {
        for index in 0..<Self.cases {
            let seed = baseSeed &+ 30_000 &+ UInt64(index)
            var generator = BatchGenerator(seed: seed)
            let replica = try makeMergeReplica()
            for _ in 0..<3 { try replica.apply(generator.batch()) }
            let dump = try replica.dump()
            let head = try replica.headCursor()
            // For every register written so far, a different value under an older stamp.
            var group = CollectionChanges(name: "families", fields: BatchGenerator.profileFields)
            for id in BatchGenerator.families {
                for (field, current) in try replica.stamps("families", id: id) where field != "_deleted" {
                    guard current.hlc.rawValue > HLCTimestamp(millis: BatchGenerator.t0, counter: 0).rawValue else {
                        continue
                    }
                    let older = Stamp(hlc: HLCTimestamp(rawValue: current.hlc.rawValue - 1), node: current.node)
                    let position = BatchGenerator.profileFields.firstIndex(of: field)!
                    let value: Value = field == "household_size" ? 999 : "stale"
                    group.records.append(
                        RecordChange(id: id, stamp: older, cells: [Cell(field: position, value: value)]))
                }
            }
            try replica.apply(ChangeBatch([group]))
            #expect(try replica.dump() == dump, "seed \(seed)")
            #expect(try replica.changes(since: head).batch.isEmpty, "seed \(seed)")
        }
    }
}

import FieldDomain
import Foundation
import SyncCore
import Testing

/// A batch setting family fields, all with one stamp.
func familyBatch(_ id: String, _ values: [String: Value], stamp: Stamp) -> ChangeBatch {
    var group = CollectionChanges(name: "families", fields: familyFields)
    let cells = values.sorted { $0.key < $1.key }.map {
        Cell(field: familyFields.firstIndex(of: $0.key)!, value: $0.value)
    }
    group.records = [RecordChange(id: id, stamp: stamp, cells: cells)]
    return ChangeBatch([group])
}

func deliveryBatch(_ id: String, family: String, stamp: Stamp, city: String = "Oran") -> ChangeBatch {
    let values: [Value] = [.text(city), .text(family), "food_pack", 1, "ramadan-2026", 1_780_000_000_000, "vol-1", nil]
    let cells = values.enumerated().filter { !$0.element.isNull }.map { Cell(field: $0.offset, value: $0.element) }
    return ChangeBatch([
        CollectionChanges(
            name: "deliveries", fields: deliveryFields,
            records: [
                RecordChange(id: id, stamp: stamp, cells: cells)
            ])
    ])
}

@Suite("Merge rules")
struct MergeRuleTests {
    let t0: UInt64 = 1_780_000_000_000

    @Test func aGreaterStampWinsAndTheDisplacedValueIsKept() throws {
        let replica = try makeReplica()
        try replica.apply(familyBatch("F1", ["city": "Oran", "phone": "0550"], stamp: stamp(t0, node: 1)))
        try replica.apply(familyBatch("F1", ["phone": "0661"], stamp: stamp(t0 + 5, node: 2)))
        #expect(try replica.record("families", id: "F1")?["phone"] == "0661")
        let history = try replica.history(recordID: "F1")
        #expect(
            history == [
                HistoryEntry(
                    collection: "families", recordID: "F1", field: "phone", value: "0550", stamp: stamp(t0, node: 1),
                    winner: stamp(t0 + 5, node: 2))
            ])
        #expect(history.first?.isConflict == true)
    }

    @Test func anOlderStampIsANoOpButIsKeptInHistory() throws {
        let replica = try makeReplica()
        try replica.apply(familyBatch("F1", ["city": "Oran", "phone": "0661"], stamp: stamp(t0 + 5, node: 2)))
        let dump = try replica.dump()
        let head = try replica.headCursor()
        try replica.apply(familyBatch("F1", ["phone": "0550"], stamp: stamp(t0, node: 1)))
        #expect(try replica.dump() == dump)
        #expect(try replica.changes(since: head).batch.isEmpty, "a losing write is not a change of the feed")
        #expect(try replica.history(recordID: "F1").map(\.value) == ["0550"])
    }

    @Test func equalClocksAreBrokenByNode() throws {
        let a = try makeReplica()
        let b = try makeReplica()
        let low = familyBatch("F1", ["phone": "low"], stamp: stamp(t0, node: 1))
        let high = familyBatch("F1", ["phone": "high"], stamp: stamp(t0, node: 2))
        try a.apply(low); try a.apply(high)
        try b.apply(high); try b.apply(low)
        #expect(try a.record("families", id: "F1")?["phone"] == "high")
        #expect(try a.dump() == b.dump())
    }

    @Test func applyingTheSameBatchTwiceChangesNothing() throws {
        let replica = try makeReplica()
        let batch = familyBatch("F1", ["city": "Oran", "phone": "0550"], stamp: stamp(t0, node: 1))
        try replica.apply(batch)
        let dump = try replica.dump()
        let head = try replica.headCursor()
        try replica.apply(batch)
        #expect(try replica.dump() == dump)
        #expect(try replica.history().isEmpty)
        #expect(try replica.changes(since: head).batch.isEmpty)
    }

    @Test func fieldsMergeIndependently() throws {
        let replica = try makeReplica()
        try replica.apply(familyBatch("F1", ["phone": "0550", "notes": "old"], stamp: stamp(t0 + 10, node: 1)))
        try replica.apply(familyBatch("F1", ["phone": "0661", "notes": "new"], stamp: stamp(t0 + 5, node: 2)))
        try replica.apply(familyBatch("F1", ["notes": "newest"], stamp: stamp(t0 + 20, node: 2)))
        let record = try #require(try replica.record("families", id: "F1"))
        #expect(record["phone"] == "0550")
        #expect(record["notes"] == "newest")
    }

    @Test func aTombstoneIsNotUndoneByAnOlderOrConcurrentEdit() throws {
        let replica = try makeReplica()
        try replica.apply(familyBatch("F1", ["city": "Oran", "phone": "0550"], stamp: stamp(t0, node: 1)))
        try replica.apply(familyBatch("F1", ["_deleted": 1], stamp: stamp(t0 + 10, node: 2)))
        // An older edit, and a concurrent edit with a greater stamp: the record stays deleted.
        try replica.apply(familyBatch("F1", ["phone": "older"], stamp: stamp(t0 + 5, node: 3)))
        try replica.apply(familyBatch("F1", ["phone": "later"], stamp: stamp(t0 + 20, node: 3)))
        #expect(try replica.record("families", id: "F1")?["_deleted"] == 1)
        // Locally, a deleted record cannot be edited.
        #expect(throws: SyncError.self) { try replica.write { try $0.editFamily("F1", ["phone": "x"]) } }
    }

    @Test func factsAreASetUnionAndNeverEdited() throws {
        let replica = try makeReplica()
        try replica.apply(deliveryBatch("D1", family: "F1", stamp: stamp(t0, node: 1)))
        try replica.apply(deliveryBatch("D2", family: "F1", stamp: stamp(t0, node: 2)))
        try replica.apply(deliveryBatch("D1", family: "F1", stamp: stamp(t0, node: 1)))
        #expect(try replica.dump().split(separator: "\n").filter { $0.hasPrefix("deliveries") }.count == 2)
        #expect {
            try replica.write { try $0.update("deliveries", id: "D1", values: ["quantity": 2]) }
        } throws: { ($0 as? SyncError)?.code == .immutableFact }
    }

    @Test func twoVolunteersDeliveringToOneFamilyAreTwoFacts() throws {
        let a = try makeReplica(node: node(1))
        let b = try makeReplica(node: node(2))
        let delivery = NewDelivery(
            city: "Oran", family: "F1", item: .foodPack, campaign: "c1", deliveredAt: t0, volunteer: "v")
        try a.write { try $0.logDelivery(delivery) }
        try b.write { try $0.logDelivery(delivery) }
        try pull(from: a, into: b)
        try pull(from: b, into: a)
        #expect(try a.dump() == b.dump())
        #expect(try a.dump().split(separator: "\n").count == 2)
    }

    /// A refusal about data covers its record alone (DESIGN.md §8): the rest of the batch is applied, the
    /// refused record is named and kept in `_refused`. A batch that is not valid as a whole still throws.
    @Test func aBadChangeIsRefusedAloneAndTheRestIsApplied() throws {
        let replica = try makeReplica()
        var batch = familyBatch("F1", ["city": "Oran"], stamp: stamp(t0, node: 1))
        batch.collections[0].records.append(
            RecordChange(id: "F2", stamp: stamp(t0, node: 1), cells: [Cell(field: 5, value: "not a number")]))
        let report = try replica.apply(batch)
        #expect(report.refused.map(\.id) == ["F2"] && report.refused.map(\.code) == [.invalidValue])
        #expect(try replica.record("families", id: "F1") != nil)
        #expect(try replica.record("families", id: "F2") == nil)
        let unknown = ChangeBatch([CollectionChanges(name: "secrets", fields: ["x"])])
        #expect { try replica.apply(unknown) } throws: { ($0 as? SyncError)?.code == .unknownCollection }
        var missing = deliveryBatch("D1", family: "F1", stamp: stamp(t0, node: 1))
        missing.collections[0].records[0].cells.removeFirst()
        let refused = try replica.apply(missing).refused
        #expect(refused.map(\.id) == ["D1"] && refused.first?.detail.contains("required") == true)
        #expect(try replica.refusedRecords().map(\.refusal.id).sorted() == ["D1", "F2"])
        // Sent again: refused again, kept once.
        _ = try replica.apply(missing)
        #expect(try replica.refusedRecords().count == 2)
    }

    @Test func aStampFarInTheFutureIsRefusedAndDoesNotMoveTheClock() throws {
        let clock = ManualClock(t0)
        let replica = try makeReplica(clock: clock)
        let before = try replica.lastTimestamp()
        let future = familyBatch("F1", ["city": "Oran"], stamp: stamp(t0 + 3_600_000, node: 1))
        #expect {
            try replica.apply(future)
        } throws: { error in
            (error as? SyncError)?.code == .clockDrift && (error as? SyncError)?.clockOffsetMillis == 3_600_000
        }
        #expect(try replica.lastTimestamp() == before)
        #expect(try replica.dump().isEmpty)
        // Within the bound, it is accepted and later local stamps order after it.
        try replica.apply(familyBatch("F1", ["city": "Oran"], stamp: stamp(t0 + 240_000, node: 1)))
        try replica.write { try $0.editFamily("F1", ["phone": "1"]) }
        #expect(try replica.stamps("families", id: "F1")["phone"]! > stamp(t0 + 240_000, node: 1))
    }

    @Test func localWritesAreValidated() throws {
        let replica = try makeReplica()
        #expect {
            try replica.write {
                try $0.logDelivery(
                    NewDelivery(
                        city: "Oran", family: "F1", item: .foodPack, quantity: 0, deliveredAt: t0, volunteer: "v"))
            }
        } throws: { ($0 as? SyncError)?.code == .invalidValue }
        #expect { try replica.write { try $0.editFamily("nope", ["phone": "1"]) } } throws: {
            ($0 as? SyncError)?.code == .notFound
        }
        let id = try replica.write { try $0.addFamily(NewFamily(city: "Oran", reference: "R", headName: "H")) }
        #expect { try replica.write { try $0.editFamily(id, ["colour": "1"]) } } throws: {
            ($0 as? SyncError)?.code == .unknownField
        }
        #expect { try replica.write { try $0.editFamily(id, ["household_size": "many"]) } } throws: {
            ($0 as? SyncError)?.code == .invalidValue
        }
        // A failed transaction writes nothing, even its earlier writes.
        let dump = try replica.dump()
        #expect(throws: SyncError.self) {
            try replica.write { tx in
                try tx.editFamily(id, ["phone": "0550"])
                try tx.editFamily("nope", ["phone": "1"])
            }
        }
        #expect(try replica.dump() == dump)
    }
}

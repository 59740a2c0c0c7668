import SyncCore

/// Random batches over a small universe of ids, nodes and clock readings, so that writes collide:
/// equal clocks on different nodes, concurrent edits of one field, tombstones, facts sent twice, and a
/// field (`whatsapp`) that the schema does not know.
///
/// A stamp names one write, so the value of a register at a stamp is a function of the stamp: the
/// generator never produces two different values under one stamp.
struct BatchGenerator {
    static let t0: UInt64 = 1_780_000_000_000
    var rng: SeededGenerator

    init(seed: UInt64) { rng = SeededGenerator(seed: seed) }

    static let families = (1...6).map { "F\($0)" }
    static let profileFields = familyFields + ["whatsapp"]

    mutating func randomStamp() -> Stamp {
        stamp(
            Self.t0 + UInt64.random(in: 0..<12, using: &rng), UInt16.random(in: 0..<3, using: &rng),
            node: Int64.random(in: 1...4, using: &rng))
    }

    static func value(record: String, field: String, stamp: Stamp) -> Value {
        switch field {
        case "_deleted": return 1
        case "household_size": return .integer(Int64(stamp.hlc.rawValue % 9 + 1) + stamp.node.rawValue)
        default: return .text("\(record).\(field).\(stamp.hlc.rawValue % 1000).\(stamp.node.rawValue)")
        }
    }

    mutating func familyGroup() -> CollectionChanges {
        var fields = Self.profileFields
        fields.shuffle(using: &rng)
        var group = CollectionChanges(name: "families", fields: fields)
        for _ in 0..<Int.random(in: 1...5, using: &rng) {
            let id = Self.families.randomElement(using: &rng)!
            let recordStamp = randomStamp()
            var chosen = Array(fields.indices)
            chosen.shuffle(using: &rng)
            // Tombstones are rarer than edits.
            chosen = chosen.filter { fields[$0] != "_deleted" || Int.random(in: 0..<4, using: &rng) == 0 }
            let cells = chosen.prefix(Int.random(in: 1...4, using: &rng)).map { index in
                let own: Stamp? = Bool.random(using: &rng) ? randomStamp() : nil
                return Cell(
                    field: index, value: Self.value(record: id, field: fields[index], stamp: own ?? recordStamp),
                    stamp: own)
            }
            group.records.append(RecordChange(id: id, stamp: recordStamp, cells: cells))
        }
        return group
    }

    /// Delivery `Dk` always has the same content and stamp: a fact is written once.
    static func delivery(_ k: Int) -> RecordChange {
        let values: [Value] = [
            k % 2 == 0 ? "Oran" : "Tlemcen", .text("F\(k % 6 + 1)"), "food_pack", .integer(Int64(k % 3 + 1)),
            k % 4 == 0 ? nil : "c1", .integer(Int64(t0) + Int64(k)), .text("vol-\(k % 5)"), nil,
        ]
        var cells = values.enumerated().filter { !$0.element.isNull }.map { Cell(field: $0.offset, value: $0.element) }
        if k % 5 == 0 { cells.append(Cell(field: deliveryFields.count, value: .text("extra-\(k)"))) }
        return RecordChange(id: "D\(k)", stamp: stamp(t0 + UInt64(k % 12), node: Int64(k % 4 + 1)), cells: cells)
    }

    mutating func deliveryGroup() -> CollectionChanges {
        var group = CollectionChanges(name: "deliveries", fields: deliveryFields + ["gps"])
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
            group.records.append(Self.delivery(Int.random(in: 1...15, using: &rng)))
        }
        return group
    }

    mutating func batch() -> ChangeBatch {
        var groups: [CollectionChanges] = []
        if Int.random(in: 0..<4, using: &rng) > 0 { groups.append(familyGroup()) }
        if groups.isEmpty || Bool.random(using: &rng) { groups.append(deliveryGroup()) }
        groups.shuffle(using: &rng)
        return ChangeBatch(groups)
    }

    /// The same changes cut into `parts` batches: profile records split cell by cell, facts kept whole.
    mutating func split(_ batch: ChangeBatch, into parts: Int) -> [ChangeBatch] {
        var result = [[CollectionChanges]](repeating: [], count: parts)
        for group in batch.collections {
            var pieces = [CollectionChanges](
                repeating: CollectionChanges(name: group.name, fields: group.fields), count: parts)
            for record in group.records {
                if group.name == "deliveries" {
                    pieces[Int.random(in: 0..<parts, using: &rng)].records.append(record)
                    continue
                }
                for cell in record.cells {
                    let single = RecordChange(
                        id: record.id, stamp: cell.stamp ?? record.stamp,
                        cells: [Cell(field: cell.field, value: cell.value)])
                    pieces[Int.random(in: 0..<parts, using: &rng)].records.append(single)
                }
            }
            for (index, piece) in pieces.enumerated() where !piece.records.isEmpty { result[index].append(piece) }
        }
        return result.map(ChangeBatch.init)
    }
}

/// A replica whose clock is a day past the generator's stamps (so none is refused as drift).
func makeMergeReplica() throws -> Replica {
    try makeReplica(clock: ManualClock(BatchGenerator.t0 + 86_400_000))
}

func concatenate(_ batches: [ChangeBatch]) -> ChangeBatch {
    ChangeBatch(batches.flatMap(\.collections))
}

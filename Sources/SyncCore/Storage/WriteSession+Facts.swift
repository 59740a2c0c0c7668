import GRDB

/// Facts: written once, merged by set union.
extension WriteSession {
    /// Inserts a fact. Remote facts merge by set union (an existing id is left alone); a local insert of
    /// an existing id throws `.duplicate`. Returns whether the fact was new.
    @discardableResult
    func insertFact(
        _ layout: TableLayout, id: String, stamp: Stamp, values: some Sequence<(register: Int, value: Value)>,
        extras: [String: ExtraCell], local: Bool
    ) throws -> Bool {
        if let rules = ruleCheck(layout) {
            var fields: [String: Value] = [:]
            for cell in values { fields[layout.registers[cell.register]] = cell.value }
            try check(
                rules, layout, id: id, values: fields, changed: Set(fields.keys), isNew: true, writer: stamp.node)
        }
        ruleReads.written(layout.name)
        let statement = try cached(layout, local ? .insertLocalFact : .insertFact) {
            layout.insertFactSQL(ignoringDuplicates: !local)
        }
        let count = Int32(layout.registers.count)
        statement.bind(id, at: 1)
        for cell in values { statement.bind(cell.value, at: 2 + Int32(cell.register)) }
        statement.bind(stamp.hlc.storage, at: count + 2)
        statement.bind(stamp.node.rawValue, at: count + 3)
        statement.bind(nextSequence(), at: count + 4)
        if let json = ExtraFields.encode(extras) { statement.bind(json, at: count + 5) }
        do {
            try statement.run()
        } catch let error as DatabaseError where local && error.resultCode == .SQLITE_CONSTRAINT {
            throw SyncError(.duplicate, "A \(layout.name) record with id \(id) already exists.")
        }
        return statement.changes > 0
    }

    /// Inserts a fact received from another node (set union: an id already here is left alone).
    /// `map` gives each of `fields` its register, or -1 for a field this schema does not know.
    func insertRemoteFact(_ layout: TableLayout, record: RecordChange, fields: [String], map: [Int]) throws {
        if fromClient, layout.hasReferences {
            let scopeRegister = layout.scopeRegister
            let scope = record.cells.first { scopeRegister != nil && map[$0.field] == scopeRegister }?.value
            for cell in record.cells where map[cell.field] >= 0 {
                try checkReference(layout, id: record.id, register: map[cell.field], value: cell.value, scope: scope)
            }
        }
        if let rules = ruleCheck(layout) {
            var fields: [String: Value] = [:]
            for cell in record.cells where map[cell.field] >= 0 {
                fields[layout.registers[map[cell.field]]] = cell.value
            }
            try check(
                rules, layout, id: record.id, values: fields, changed: Set(fields.keys), isNew: true,
                writer: record.stamp.node)
        }
        ruleReads.written(layout.name)
        let statement = try cached(layout, .insertFact) { layout.insertFactSQL(ignoringDuplicates: true) }
        let count = Int32(layout.registers.count)
        statement.bind(record.id, at: 1)
        var extras: [String: ExtraCell] = [:]
        for cell in record.cells {
            let register = map[cell.field]
            if register >= 0 {
                statement.bind(cell.value, at: 2 + Int32(register))
            } else {
                extras[fields[cell.field]] = ExtraCell(v: cell.value)
            }
        }
        statement.bind(record.stamp.hlc.storage, at: count + 2)
        statement.bind(record.stamp.node.rawValue, at: count + 3)
        statement.bind(nextSequence(), at: count + 4)
        if let json = ExtraFields.encode(extras) { statement.bind(json, at: count + 5) }
        try statement.run()
        if statement.changes == 0 { try resolveFactCollision(layout, record: record, insert: statement) }
    }

    /// Two different facts under one id (a client bug or a forged id): every replica keeps the one with the
    /// smaller stamp, so they converge, and the other is noted in history. The kept fact is re-appended
    /// (delete and insert) so that facts stay in sequence order by rowid.
    func resolveFactCollision(_ layout: TableLayout, record: RecordChange, insert: SQLStatement) throws {
        let scopeColumn = layout.collection.scopeField.map { ", " + quote($0) } ?? ""
        let select = try SQLStatement(
            db, "SELECT \"_hlc\", \"_node\"\(scopeColumn) FROM \(layout.table) WHERE \"id\" = ?1")
        select.bind(record.id, at: 1)
        guard try select.step(), let node = NodeID(rawValue: select.int64(1)) else { return select.reset() }
        let stored = Stamp(hlc: HLCTimestamp(storage: select.int64(0)), node: node)
        let storedScope: Value? = scopeColumn.isEmpty ? .none : .some(select.value(2))
        select.reset()
        if let scope, let storedScope, storedScope != .text(scope) {
            throw Self.outOfScope(layout, id: record.id, value: storedScope, scope: scope)
        }
        guard record.stamp != stored else { return }  // the same fact again
        let (kept, dropped) = record.stamp < stored ? (record.stamp, stored) : (stored, record.stamp)
        try recordHistory(
            HistoryEntry(
                collection: layout.name, recordID: record.id, field: "*",
                value: .text("another \(layout.name) fact with this id, stamped \(kept), was kept"), stamp: dropped,
                winner: kept))
        guard record.stamp < stored else { return }
        let delete = try SQLStatement(db, "DELETE FROM \(layout.table) WHERE \"id\" = ?1")
        delete.bind(record.id, at: 1)
        try delete.run()
        insert.bind(nextSequence(), at: Int32(layout.registers.count) + 4)
        try insert.run()
    }
}

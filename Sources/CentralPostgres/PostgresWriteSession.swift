package import SyncCore

/// One write transaction's merge on PostgreSQL, in memory: the decisions of the SQLite store's
/// `WriteSession` (last writer wins per register, facts a set, displaced values kept, a record leaving its
/// scope noted) made on the rows read before it (``MergedRow``), with no I/O. The store reads the rows
/// first and writes back what changed after (``PostgresStore``).
package final class PostgresWriteSession {
    package let layouts: [PostgresLayout]
    package var clock: HybridLogicalClock
    package private(set) var sequence: Int64
    /// This server's node id, and the one it had before a duplicate was found (its writes too).
    let nodeID: NodeID
    let previousNodeID: NodeID?
    /// The server's clock that the push's stamps are checked against (Unix ms).
    package var checkedAt: UInt64
    /// Per collection: the rows read (absent ids are not there), with this session's writes.
    package var rows: [[String: MergedRow]]
    /// Per collection: the ids written.
    package private(set) var dirty: [Set<String>]
    /// Displaced values, in the order met (one per key: the SQLite store's `INSERT OR IGNORE`).
    package private(set) var history: [HistoryEntry] = []
    private var historyKeys = Set<HistoryKey>()
    /// Records that left a scope: the old scope's readers are told.
    package private(set) var departures: [Departure] = []
    /// A client's push: every record merged must already lie in this scope if it exists here, and a new
    /// one must carry its scope field (nil: the admin, or another replica).
    package var scope: String?
    /// Records come from a client: a new profile must carry its required fields, references stay in the
    /// record's scope. Refused records throw `RefusedRecord`.
    package var fromClient = false
    /// The client of a push, and its token's role: what the rules know of a record's writer.
    package var sender: NodeID?
    package var role: Principal.Role?
    /// The records refused so far (by the plan and by the merge), in order.
    package var refusals: [Refusal] = []
    /// The domain's rules, checked on a client's records (nil: not checked).
    package var rules: (any RecordRules)?
    /// What the rules read beyond the session's rows (see ``PostgresRuleReads``).
    package var ruleReads = PostgresRuleReads()
    /// What the rules asked for that was not read: answered provisionally, read before the next pass.
    var ruleMisses = Set<RuleRead>()
    /// Which pass over the batch this session is (the first: 1).
    package var passes = 1

    package struct Departure: Sendable, Equatable {
        package var sequence: Int64
        package var collection: String
        package var id: String
        package var scope: String
    }

    private struct HistoryKey: Hashable {
        var collection: String
        var id: String
        var field: String
        var hlc: Int64
        var node: Int64
    }

    package init(
        layouts: [PostgresLayout], clock: HybridLogicalClock, sequence: Int64, nodeID: NodeID,
        previousNodeID: NodeID?, checkedAt: UInt64, rows: [[String: MergedRow]]
    ) {
        self.layouts = layouts
        self.clock = clock
        self.sequence = sequence
        self.nodeID = nodeID
        self.previousNodeID = previousNodeID
        self.checkedAt = checkedAt
        self.rows = rows
        self.dirty = Array(repeating: [], count: layouts.count)
    }

    /// Makes room for `count` rows of a collection, read and written.
    func reserve(_ collection: Int, _ count: Int) {
        rows[collection].reserveCapacity(count)
        dirty[collection].reserveCapacity(count)
    }

    func isOwn(_ node: NodeID) -> Bool { node == nodeID || node == previousNodeID }

    func nextSequence() -> Int64 {
        sequence += 1
        return sequence
    }

    private func keep(_ entry: HistoryEntry) {
        let key = HistoryKey(
            collection: entry.collection, id: entry.recordID, field: entry.field, hlc: entry.stamp.hlc.storage,
            node: entry.stamp.node.rawValue)
        if historyKeys.insert(key).inserted { history.append(entry) }
    }

    // MARK: Profiles

    /// Merges registers into a profile record (see the SQLite store's `WriteSession.mergeProfile`).
    package func mergeProfile(
        _ collection: Int, id: String, cells: [(register: Int, value: Value, stamp: Stamp)]
    ) throws {
        let layout = layouts[collection]
        let stored = rows[collection][id]
        var recordScope: Value?
        if let register = layout.scopeRegister {
            recordScope = stored.map { $0.values[register] } ?? cells.first(where: { $0.register == register })?.value
        }
        if let scope, layout.scopeRegister != nil {
            if stored != nil, recordScope != .text(scope) {
                throw RefusedRecord(
                    refusal: .storedElsewhere(
                        collection: layout.name, id: id, scopeField: layout.collection.scopeField,
                        value: recordScope ?? .null, scope: scope))
            } else if stored == nil, recordScope == nil {
                throw RefusedRecord(
                    refusal: .noScope(collection: layout.name, id: id, scopeField: layout.collection.scopeField))
            }
        }
        if fromClient {
            if stored == nil { try requireFields(layout, id: id, cells: cells) }
            for cell in cells {
                try checkReference(layout, id: id, register: cell.register, value: cell.value, scope: recordScope)
            }
        }
        var row = stored ?? .emptyProfile(registers: layout.registers.count, sequence: 0)
        var mask: UInt64 = 0
        var kept: [HistoryEntry] = []
        for cell in cells {
            let local = stored?.stamp(register: cell.register)
            switch FieldMerge.decide(local: local, remote: cell.stamp) {
            case .takeRemote:
                mask |= 1 << UInt64(cell.register)
                if let local, local.node != cell.stamp.node || isOwn(local.node) {
                    kept.append(
                        HistoryEntry(
                            collection: layout.name, recordID: id, field: layout.registers[cell.register],
                            value: row.values[cell.register], stamp: local, winner: cell.stamp))
                }
            case .keepLocal:
                if let local, local.node != cell.stamp.node {
                    kept.append(
                        HistoryEntry(
                            collection: layout.name, recordID: id, field: layout.registers[cell.register],
                            value: cell.value, stamp: cell.stamp, winner: local))
                }
            case .same:
                break
            }
        }
        // A tombstone is checked too (changed: `_deleted`), as on SQLite.
        if mask != 0, let rules = ruleCheck(layout) {
            var values: [String: Value] = [:]
            if let stored {
                for register in layout.collection.fields.indices {
                    values[layout.registers[register]] = stored.values[register]
                }
            }
            var changed = Set<String>()
            var newest: Stamp?
            for cell in cells where mask & (1 << UInt64(cell.register)) != 0 {
                values[layout.registers[cell.register]] = cell.value
                changed.insert(layout.registers[cell.register])
                if newest.map({ cell.stamp > $0 }) ?? true { newest = cell.stamp }
            }
            try check(
                rules, layout, id: id, values: values, changed: changed, isNew: stored == nil, writer: newest?.node)
        }
        for entry in kept { keep(entry) }
        guard mask != 0 else { return }
        var departedFrom: Value?
        if let stored, let register = layout.scopeRegister, mask & (1 << UInt64(register)) != 0,
            let cell = cells.first(where: { $0.register == register }), stored.values[register] != cell.value
        {
            departedFrom = stored.values[register]
        }
        let sequence = nextSequence()
        if case .text(let scope)? = departedFrom {
            departures.append(Departure(sequence: nextSequence(), collection: layout.name, id: id, scope: scope))
        }
        for cell in cells where mask & (1 << UInt64(cell.register)) != 0 {
            row.values[cell.register] = cell.value
            row.hlc[cell.register] = cell.stamp.hlc.storage
            row.node[cell.register] = cell.stamp.node.rawValue
            row.registerSequence[cell.register] = sequence
        }
        row.sequence = sequence
        write(collection, id: id, row)
    }

    /// Merges fields this schema does not know into a record's kept extras (last writer wins per field).
    package func mergeExtras(
        _ collection: Int, id: String, extras: [(name: String, value: Value, stamp: Stamp)]
    ) throws {
        let layout = layouts[collection]
        if let scope, let field = layout.collection.scopeField, let register = layout.scopeRegister {
            let stored = rows[collection][id]?.values[register] ?? .null
            if stored == .null {
                throw RefusedRecord(refusal: .noScope(collection: layout.name, id: id, scopeField: field))
            }
            if stored != .text(scope) {
                throw RefusedRecord(
                    refusal: .storedElsewhere(
                        collection: layout.name, id: id, scopeField: field, value: stored, scope: scope))
            }
        }
        // (The SQLite store makes the row first, at the current sequence, then takes one for the extras.)
        var row = rows[collection][id] ?? .emptyProfile(registers: layout.registers.count, sequence: sequence)
        let seq = nextSequence()
        var changed = false
        for extra in extras {
            let local = row.extra[extra.name]
            switch FieldMerge.decide(local: local?.stamp, remote: extra.stamp) {
            case .takeRemote:
                if let local, let localStamp = local.stamp,
                    localStamp.node != extra.stamp.node || isOwn(localStamp.node)
                {
                    keep(
                        HistoryEntry(
                            collection: layout.name, recordID: id, field: extra.name, value: local.v, stamp: localStamp,
                            winner: extra.stamp))
                }
                row.extra[extra.name] = ExtraCell(
                    v: extra.value, h: extra.stamp.hlc.storage, n: extra.stamp.node.rawValue, s: seq)
                changed = true
            case .keepLocal:
                if let winner = local?.stamp, winner.node != extra.stamp.node {
                    keep(
                        HistoryEntry(
                            collection: layout.name, recordID: id, field: extra.name, value: extra.value,
                            stamp: extra.stamp, winner: winner))
                }
            case .same:
                break
            }
        }
        if changed { row.sequence = seq }
        if changed || rows[collection][id] == nil { write(collection, id: id, row) }
    }

    // MARK: Facts

    /// Adds a fact received from another node (set union; two facts under one id keep the smaller stamp, the
    /// other noted in history, as on SQLite).
    package func insertFact(
        _ collection: Int, record: RecordChange, values: [(register: Int, value: Value)], extras: [String: ExtraCell]
    ) throws {
        let layout = layouts[collection]
        if fromClient, layout.hasReferences {
            let scope = layout.scopeRegister.flatMap { register in values.first { $0.register == register }?.value }
            for cell in values {
                try checkReference(layout, id: record.id, register: cell.register, value: cell.value, scope: scope)
            }
        }
        if let rules = ruleCheck(layout) {
            var fields: [String: Value] = [:]
            for cell in values { fields[layout.registers[cell.register]] = cell.value }
            try check(
                rules, layout, id: record.id, values: fields, changed: Set(fields.keys), isNew: true,
                writer: record.stamp.node)
        }
        var row = MergedRow(
            values: Array(repeating: .null, count: layout.registers.count), hlc: [record.stamp.hlc.storage],
            node: [record.stamp.node.rawValue], registerSequence: [], extra: extras, sequence: nextSequence())
        for cell in values { row.values[cell.register] = cell.value }
        guard let stored = rows[collection][record.id], let storedStamp = stored.factStamp else {
            return write(collection, id: record.id, row)
        }
        if let scope, let register = layout.scopeRegister, stored.values[register] != .text(scope) {
            throw RefusedRecord(
                refusal: .storedElsewhere(
                    collection: layout.name, id: record.id, scopeField: layout.collection.scopeField,
                    value: stored.values[register], scope: scope))
        }
        guard record.stamp != storedStamp else { return }  // the same fact again
        let (kept, dropped) = record.stamp < storedStamp ? (record.stamp, storedStamp) : (storedStamp, record.stamp)
        keep(
            HistoryEntry(
                collection: layout.name, recordID: record.id, field: "*",
                value: .text("another \(layout.name) fact with this id, stamped \(kept), was kept"), stamp: dropped,
                winner: kept))
        guard record.stamp < storedStamp else { return }
        row.sequence = nextSequence()
        write(collection, id: record.id, row)
    }

    // MARK: A client's records

    /// The refusals, each marked when this store holds its record as a profile in the session's scope (any
    /// scope for the admin): only that change of it was refused, so the sender keeps its copy.
    package func markStaying(_ refusals: [Refusal]) -> [Refusal] {
        refusals.map { refusal in
            var refusal = refusal
            guard let index = layouts.firstIndex(where: { $0.name == refusal.collection }), layouts[index].isProfile,
                let row = rows[index][refusal.id]
            else { return refusal }
            guard let scope, let register = layouts[index].scopeRegister else {
                refusal.stays = true
                return refusal
            }
            refusal.stays = row.values[register] == .text(scope)
            return refusal
        }
    }

    /// Refuses a new profile record that lacks one of its required fields (a tombstone needs none).
    private func requireFields(
        _ layout: PostgresLayout, id: String, cells: [(register: Int, value: Value, stamp: Stamp)]
    ) throws {
        var filled = Set<Int>()
        for cell in cells where cell.value != .null { filled.insert(cell.register) }
        if filled.contains(layout.collection.fields.count) { return }
        if let missing = layout.collection.fields.indices.first(where: {
            layout.collection.fields[$0].required && !filled.contains($0)
        }) {
            throw RefusedRecord(
                refusal: .missingField(collection: layout.name, id: id, field: layout.collection.fields[missing].name))
        }
    }

    /// Refuses a reference to a record stored here in another scope than the record's own (one not known
    /// here is kept: it may arrive later). The targets were read with the batch's rows.
    private func checkReference(
        _ layout: PostgresLayout, id: String, register: Int, value: Value, scope: Value?
    ) throws {
        guard register < layout.collection.fields.count, case .text(let target) = value,
            let collection = layout.collection.fields[register].references,
            let targetIndex = layouts.firstIndex(where: { $0.name == collection }),
            let targetScope = layouts[targetIndex].collection.scopeField,
            let scopeRegister = layouts[targetIndex].scopeRegister,
            let stored = rows[targetIndex][target]?.values[scopeRegister],
            stored != scope ?? .null
        else { return }
        throw RefusedRecord(
            refusal: .crossScopeReference(
                collection: layout.name, id: id, field: layout.collection.fields[register].name,
                target: (collection, target, stored), scope: scope, scopeField: targetScope))
    }

    /// The rules when they check this collection and the records are a client's.
    private func ruleCheck(_ layout: PostgresLayout) -> (any RecordRules)? {
        guard fromClient, let rules, rules.collections.contains(layout.name) else { return nil }
        return rules
    }

    private func write(_ collection: Int, id: String, _ row: MergedRow) {
        rows[collection][id] = row
        dirty[collection].insert(id)
    }
}

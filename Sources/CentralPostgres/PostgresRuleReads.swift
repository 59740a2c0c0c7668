import SyncCore

/// What the domain's rules (``Schema/rules``) read during a merge on PostgreSQL, and where it comes from.
///
/// The rules are synchronous (``RecordRules/problem(with:in:)``) and the merge decides in memory, with no
/// I/O (``PostgresWriteSession``). So the merge runs against what has been read so far: the rows the batch
/// touches (found or not), and what earlier passes read for the rules. A read not made yet is noted
/// (``RuleRead``) and answered provisionally (absent, or no records); once the pass ends, every read it
/// missed is made at once, one query per collection, in the same transaction (the rows and `_meta` stay
/// locked: nothing changes meanwhile), and the merge runs again from the start. A collection without a
/// scope (the catalogue's items, the campaigns) is read whole at its first use, up to
/// ``wholeCollectionBound`` rows. A push takes a pass or two more, whatever its size.
package struct PostgresRuleReads: Sendable {
    /// A collection of this many rows at most is read whole when a rule first reads it.
    package static let wholeCollectionBound = 1_000
    /// Passes over one push at most: each pass reads what the one before missed, so the passes are as many
    /// as the rules have steps that depend on an earlier answer (FieldSync's: 3).
    static let maxPasses = 8

    /// Per collection index: every row (deleted ones too), when read whole.
    var whole: [Int: [String: MergedRow]] = [:]
    /// Collections past the bound: read by id, and by their first records in id order.
    var tooLarge: Set<Int> = []
    /// Rows read by id (nil: absent).
    var byID: [Int: [String: MergedRow?]] = [:]
    /// The ids of ``byID`` read after the batch's own rows, at a miss of the rules.
    var missedIDs: [Int: [String]] = [:]
    /// The first live rows in id order, and whether they are all there are.
    var first: [Int: (rows: [(id: String, row: MergedRow)], all: Bool)] = [:]

    package init() {}

    /// Notes the rows read for the batch by id: those not found are absent.
    mutating func noteRead(_ index: Int, ids: [String], found: [String: MergedRow]) {
        for id in ids { byID[index, default: [:]][id] = .some(found[id]) }
    }

    /// Notes records read because a pass of the rules missed them (``noteRead(_:ids:found:)``), which the
    /// write checks besides the batch's own.
    mutating func noteMissed(_ index: Int, ids: [String], found: [String: MergedRow]) {
        noteRead(index, ids: ids, found: found)
        missedIDs[index, default: []] += ids
    }
}

/// A read the rules need that the merge does not have yet.
enum RuleRead: Hashable {
    /// A whole collection (one without a scope, small enough).
    case collection(Int)
    /// One record of a collection.
    case record(Int, String)
    /// At least this many of a collection's first live records.
    case first(Int, count: Int)
}

/// The records a write session's rules see on PostgreSQL: the rows of the session (read for the batch, or
/// written by it) over what was read for the rules. The same answers as the SQLite store's view of a write
/// transaction (the transaction's own writes included).
struct SessionRecords: RecordSource {
    let session: PostgresWriteSession

    func record(_ collection: String, id: String) throws -> [String: Value]? {
        let index = try self.index(collection)
        // No record has another id, and the reads below key ids by Swift's equality, which takes some other
        // spellings for an id's ("\u{212A}" for "K").
        guard RecordRef.isValidID(id) else { return nil }
        let reads = session.ruleReads
        let row: MergedRow?
        if let stored = session.rows[index][id] {
            row = stored
        } else if let all = reads.whole[index] {
            row = all[id]
        } else if let fetched = reads.byID[index]?[id] {
            row = fetched
        } else {
            session.ruleMisses.insert(readsWhole(index) ? .collection(index) : .record(index, id))
            return nil
        }
        guard let row, isLive(row, index) else { return nil }
        return values(row, index)
    }

    func records(_ collection: String, limit: Int) throws -> [(id: String, values: [String: Value])] {
        let index = try self.index(collection)
        let reads = session.ruleReads
        var rows: [String: MergedRow]
        var complete: Bool
        if let all = reads.whole[index] {
            (rows, complete) = (all, true)
        } else if readsWhole(index) {
            session.ruleMisses.insert(.collection(index))
            return []
        } else if let first = reads.first[index] {
            rows = Dictionary(first.rows, uniquingKeysWith: { $1 })
            complete = first.all
        } else {
            session.ruleMisses.insert(.first(index, count: limit + session.rows[index].count))
            return []
        }
        // Past the last row read, another row may come first: only what lies before it is known.
        let last = reads.whole[index] == nil ? reads.first[index]?.rows.last?.id : nil
        for (id, row) in session.rows[index] where complete || last.map({ !Self.precedes($0, id) }) ?? false {
            rows[id] = row
        }
        let live = rows.filter { isLive($0.value, index) }.sorted { Self.precedes($0.key, $1.key) }
        guard complete || live.count >= limit else {
            session.ruleMisses.insert(.first(index, count: 2 * (limit + session.rows[index].count)))
            return []
        }
        return live.prefix(limit).map { ($0.key, values($0.value, index)) }
    }

    /// The order of ids of the SQLite store's `ORDER BY id` (bytes), and PostgreSQL's `COLLATE "C"`.
    static func precedes(_ left: String, _ right: String) -> Bool {
        left.utf8.lexicographicallyPrecedes(right.utf8)
    }

    private func index(_ collection: String) throws -> Int {
        guard let index = session.layouts.firstIndex(where: { $0.name == collection }) else {
            throw SyncError(.unknownCollection, "The rules read '\(collection)', which this schema does not declare.")
        }
        return index
    }

    /// Whether a collection is read whole at its first use: one without a scope, not past the bound.
    private func readsWhole(_ index: Int) -> Bool {
        session.layouts[index].collection.scopeField == nil && !session.ruleReads.tooLarge.contains(index)
    }

    private func isLive(_ row: MergedRow, _ index: Int) -> Bool {
        let layout = session.layouts[index]
        return !layout.isProfile || row.values[layout.collection.fields.count] == .null
    }

    /// A row's fields as the SQLite store's `record` gives them: every register, then the kept extras.
    private func values(_ row: MergedRow, _ index: Int) -> [String: Value] {
        var values: [String: Value] = [:]
        for (register, name) in session.layouts[index].registers.enumerated() { values[name] = row.values[register] }
        for (name, extra) in row.extra { values[name] = extra.v }
        return values
    }
}

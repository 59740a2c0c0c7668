import GRDB

extension Replica {
    /// The current value of every field changed after `cursor`, up to `limit` records, oldest change first.
    ///
    /// Intermediate overwrites are never sent: a field changed ten times since the cursor appears once,
    /// with its current value and stamp. Reading is a snapshot: the page is consistent even while writes
    /// go on. Pass the returned cursor to the next call; persist it only after the page is applied.
    public func changes(since cursor: FeedCursor, limit: Int = 1000, filter: FeedFilter = .all) throws -> FeedPage {
        let limit = min(max(limit, 1), Self.maxFeedLimit)
        let requested = cursor
        return try read { db in
            var filter = filter
            if let peer = filter.excludingEchoOf {
                for range in try Self.echoRanges(db, peer: peer, after: cursor.base) {
                    filter.excludingSequences.insert(range)
                }
            }
            let cursor = cursor.skipping(filter.excludingSequences)
            // Nothing after the cursor: no table to read.
            let head = try ReplicaMeta.int(db, .sequence) ?? 0
            if cursor.position >= head {
                return FeedPage(batch: ChangeBatch(), cursor: FeedCursor(max(head, cursor.position)), hasMore: false)
            }
            // Pages whose every change is filtered out are skipped here, not sent empty (a bounded number).
            var page = try Self.readFeed(db, layouts: self.layouts, since: cursor, limit: limit, filter: filter)
            var skipped = 0
            while page.batch.isEmpty, page.hasMore, skipped < Self.maxSkippedPages {
                page = try Self.readFeed(db, layouts: self.layouts, since: page.cursor, limit: limit, filter: filter)
                skipped += 1
            }
            if let scope = filter.scope {
                let (gone, cut) = try departures(
                    db, scope: scope, after: requested.position, through: page.cursor.position)
                if let cut {
                    // The page ends at its last departure (the records after it come again: a merge is idempotent).
                    page.cursor = FeedCursor(base: requested.base, position: cut)
                    page.hasMore = true
                }
                page.left = gone.map(\.ref)
                page.refused = gone.compactMap(\.refusal)
            }
            return page
        }
    }

    /// The records that left `scope` at a sequence in (`after`, `through`] and are not back in it now, each
    /// with its refusal when it left because it was refused; `cut`: the sequence the page must end at when
    /// there were more than a page names.
    private func departures(
        _ db: Database, scope: String, after: Int64, through: Int64
    ) throws -> (gone: [(ref: RecordRef, refusal: Refusal?)], cut: Int64?) {
        let select = try SQLStatement(
            cached: db,
            """
            SELECT collection, record_id, code, field, detail, seq FROM _departures
            WHERE scope = ?1 AND seq > ?2 AND seq <= ?3 ORDER BY seq LIMIT ?4
            """)
        select.bind(scope, at: 1)
        select.bind(after, at: 2)
        select.bind(through, at: 3)
        select.bind(Int64(FeedPage.maxLeft), at: 4)
        var found: [(ref: RecordRef, refusal: Refusal?)] = []
        var last: Int64 = 0
        while try select.step() {
            let ref = RecordRef(collection: select.text(0) ?? "", id: select.text(1) ?? "")
            let refusal = select.text(2).map {
                Refusal(
                    collection: ref.collection, id: ref.id, code: SyncError.Code($0), field: select.text(3),
                    detail: select.text(4) ?? "")
            }
            found.append((ref, refusal))
            last = select.int64(5)
        }
        select.reset()
        let cut = found.count == FeedPage.maxLeft ? last : nil
        let gone = try found.filter { ref, _ in
            guard let layout = try? layout(ref.collection), let field = layout.collection.scopeField else {
                return false
            }
            let now = try DatabaseValue.fetchOne(
                db, sql: "SELECT \(quote(field)) FROM \(layout.table) WHERE \"id\" = ?", arguments: [ref.id])
            return now.map(Value.init) != .text(scope)
        }
        return (gone, cut)
    }

    /// How many filtered-out pages one call reads past before it returns an empty page with `hasMore`.
    static let maxSkippedPages = 256

    /// The most records one feed page carries.
    public static let maxFeedLimit = 100_000

    private static func readFeed(
        _ db: Database, layouts: [TableLayout], since cursor: FeedCursor, limit: Int, filter: FeedFilter
    ) throws -> FeedPage {
        let head = try ReplicaMeta.int(db, .sequence) ?? 0
        var rows: [FeedRow] = []
        rows.reserveCapacity(min(limit + 1, 4096))
        var groups: [CollectionChanges] = []
        // The smallest last-read sequence among tables that had more rows than we read: rows past it may
        // exist unread, so the page stops there.
        var bound = Int64.max
        for layout in layouts {
            let scoped = filter.scope != nil && layout.collection.scopeField != nil
            let statement = try SQLStatement(cached: db, layout.feedSQL(scoped: scoped))
            if layout.isProfile {
                statement.bind(cursor.position, at: 1)
            } else {
                guard let start = try firstFactRowid(db, layout: layout, after: cursor.position) else { continue }
                statement.bind(start, at: 1)
            }
            statement.bind(Int64(limit + 1), at: 2)
            if scoped, let scope = filter.scope { statement.bind(scope, at: 3) }
            let groupIndex = groups.count
            groups.append(CollectionChanges(name: layout.name, fields: layout.registers))
            let scopeRegister = layout.collection.scopeField.flatMap { layout.registerIndex($0) }
            var fetched = 0
            var lastSequence = cursor.position
            while try statement.step() {
                fetched += 1
                let sequence = statement.int64(1)
                lastSequence = sequence
                let extras = try ExtraFields.decode(statement.text(2))
                var record: RecordChange?
                var rowExtras: [(name: String, value: Value, stamp: Stamp?)] = []
                if layout.isProfile {
                    var cells: [Cell] = []
                    var recordStamp: Stamp?
                    let stamps = try layout.decodeStamps(statement, column: 3)
                    // A record that just moved into the reader's scope is sent whole: the reader has none of it.
                    var since = cursor.base
                    if filter.scope != nil, let scopeRegister, let moved = stamps.entries[scopeRegister],
                        moved.sequence > cursor.base
                    {
                        since = Int64.min
                    }
                    for (register, entry) in stamps.entries.enumerated() {
                        guard let entry, entry.sequence > since else { continue }
                        if filter.excludes(entry.stamp, sequence: entry.sequence) { continue }
                        if recordStamp == nil { recordStamp = entry.stamp }
                        cells.append(
                            Cell(
                                field: register, value: statement.value(layout.feedValueColumn(register)),
                                stamp: entry.stamp == recordStamp ? nil : entry.stamp))
                    }
                    for (name, extra) in extras.sorted(by: { $0.key < $1.key }) {
                        guard layout.registerIndex(name) == nil, let seq = extra.s, seq > since,
                            let stamp = extra.stamp,
                            !filter.excludes(stamp, sequence: seq)
                        else { continue }
                        if recordStamp == nil { recordStamp = stamp }
                        rowExtras.append((name, extra.v, stamp == recordStamp ? nil : stamp))
                    }
                    if let recordStamp, !cells.isEmpty || !rowExtras.isEmpty {
                        record = RecordChange(id: statement.text(0) ?? "", stamp: recordStamp, cells: cells)
                    }
                } else {
                    guard let node = NodeID(rawValue: statement.int64(4)) else {
                        throw SyncError(.corruptReplica, "A \(layout.name) row has an invalid node id.")
                    }
                    let stamp = Stamp(hlc: HLCTimestamp(storage: statement.int64(3)), node: node)
                    if !filter.excludes(stamp, sequence: sequence) {
                        var cells: [Cell] = []
                        cells.reserveCapacity(layout.registers.count + extras.count)
                        for register in layout.registers.indices {
                            let value = statement.value(layout.feedValueColumn(register))
                            if !value.isNull { cells.append(Cell(field: register, value: value)) }
                        }
                        for (name, extra) in extras.sorted(by: { $0.key < $1.key })
                        where layout.registerIndex(name) == nil {
                            rowExtras.append((name, extra.v, nil))
                        }
                        record = RecordChange(id: statement.text(0) ?? "", stamp: stamp, cells: cells)
                    }
                }
                if let record {
                    rows.append(FeedRow(sequence: sequence, group: groupIndex, record: record, extras: rowExtras))
                }
            }
            statement.reset()
            if fetched > limit { bound = min(bound, lastSequence) }
        }
        return FeedPage.assemble(rows, groups: groups, bound: bound, head: head, cursor: cursor, limit: limit)
    }

    /// The rowid of the first fact whose sequence is after `position`, or nil: a binary search, since a
    /// fact table's rowid and sequence grow together.
    static func firstFactRowid(_ db: Database, layout: TableLayout, after position: Int64) throws -> Int64? {
        let bounds = try SQLStatement(cached: db, layout.edgeRowidsSQL)
        guard try bounds.step(), let low = bounds.optionalInt64(0), let high = bounds.optionalInt64(1) else {
            return nil
        }
        bounds.reset()
        let probe = try SQLStatement(cached: db, layout.rowidProbeSQL)
        func firstAtOrAfter(_ rowid: Int64) throws -> (rowid: Int64, sequence: Int64)? {
            probe.bind(rowid, at: 1)
            defer { probe.reset() }
            return try probe.step() ? (probe.int64(0), probe.int64(1)) : nil
        }
        // Smallest x in [low, high + 1] such that the first row at or after x is past `position`.
        var (lower, upper) = (low, high + 1)
        while lower < upper {
            let middle = lower + (upper - lower) / 2
            if let row = try firstAtOrAfter(middle), row.sequence <= position {
                lower = row.rowid + 1
            } else {
                upper = middle
            }
        }
        return try firstAtOrAfter(lower)?.rowid
    }

}

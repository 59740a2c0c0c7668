import Logging
import PostgresNIO
package import SyncCore

/// The change feed on PostgreSQL: the SQLite replica's pages (`Replica+Feed`), read in one snapshot.
///
/// Gap-free with several instances writing (decision record 0013): every write transaction holds the
/// `_meta` row from its first sequence to its commit, so sequences become visible in the order they were
/// taken, and a reader that sees sequence N sees every sequence below it.
extension PostgresStore {
    /// Up to `limit` records changed after `cursor`, as `filter` allows (see ``SyncStore/changes(since:limit:filter:)``).
    package func changes(since cursor: FeedCursor, limit: Int, filter: FeedFilter) async throws -> FeedPage {
        let limit = min(max(limit, 1), Replica.maxFeedLimit)
        let layouts = self.layouts
        return try await database.withSnapshot { connection in
            let logger = self.logger
            let overview = try await Self.overview(
                connection, statement: self.overviewStatement, peer: filter.excludingEchoOf, base: cursor.base,
                scope: filter.scope, logger: logger)
            var filter = filter
            for range in overview.echo { filter.excludingSequences.insert(range) }
            let start = cursor.skipping(filter.excludingSequences)
            let head = overview.head
            if start.position >= head {
                return FeedPage(batch: ChangeBatch(), cursor: FeedCursor(max(head, start.position)), hasMore: false)
            }
            let tables = zip(layouts, overview.last).map { (layout: $0, last: $1) }
            let facts = self.facts
            var page = try await Self.readFeed(
                connection, layouts: tables, facts: facts, since: start, limit: limit, filter: filter, head: head,
                moves: overview.factMoves, logger: logger)
            var skipped = 0
            while page.batch.isEmpty, page.hasMore, skipped < Self.maxSkippedPages {
                page = try await Self.readFeed(
                    connection, layouts: tables, facts: facts, since: page.cursor, limit: limit, filter: filter,
                    head: head, moves: overview.factMoves, logger: logger)
                skipped += 1
            }
            if let scope = filter.scope, overview.lastDeparture > cursor.position {
                let (gone, cut) = try await Self.departures(
                    connection, layouts: layouts, scope: scope, after: cursor.position, through: page.cursor.position,
                    logger: logger)
                if let cut {
                    page.cursor = FeedCursor(base: cursor.base, position: cut)
                    page.hasMore = true
                }
                page.left = gone.map(\.ref)
                page.refused = gone.compactMap(\.refusal)
            }
            return page
        }
    }

    /// How many filtered-out pages one call reads past before it returns an empty page with `hasMore` (as
    /// the SQLite replica).
    static let maxSkippedPages = 256

    /// A page read from every table that changed past `cursor` (`last`: each table's last sequence, in the
    /// store's order of collections).
    private static func readFeed(
        _ connection: PostgresConnection, layouts: [(layout: PostgresLayout, last: Int64)], facts: FactCache,
        since cursor: FeedCursor, limit: Int, filter: FeedFilter, head: Int64, moves: [Int64], logger: Logger
    ) async throws -> FeedPage {
        var rows: [FeedRow] = []
        var groups: [CollectionChanges] = []
        var bound = Int64.max
        for (collection, (layout, last)) in layouts.enumerated() where last > cursor.position {
            let groupIndex = groups.count
            groups.append(CollectionChanges(name: layout.name, fields: layout.registers))
            let (fetched, lastSequence): (Int, Int64)
            if layout.isProfile {
                (fetched, lastSequence) = try await readProfiles(
                    connection, layout, since: cursor, limit: limit, filter: filter, group: groupIndex, into: &rows,
                    logger: logger)
            } else {
                (fetched, lastSequence) = try await readFacts(
                    connection, layout, collection: collection, facts: facts,
                    snapshot: (head: head, last: last, moves: moves), since: cursor, limit: limit, filter: filter,
                    group: groupIndex, into: &rows, logger: logger)
            }
            if fetched > limit { bound = min(bound, lastSequence) }
        }
        return FeedPage.assemble(rows, groups: groups, bound: bound, head: head, cursor: cursor, limit: limit)
    }

    /// `SELECT columns FROM table WHERE _seq > cursor [AND scope] ORDER BY _seq LIMIT limit + 1`, its binds.
    private static func feedQuery(
        _ layout: PostgresLayout, columns: String, since cursor: FeedCursor, limit: Int, filter: FeedFilter
    ) -> PostgresQuery {
        var binds = PostgresBindings()
        binds.append(cursor.position)
        binds.append(Int64(limit + 1))
        var sql = "SELECT \(columns) FROM \(layout.table) WHERE \"_seq\" > $1"
        if let scope = filter.scope, let column = layout.scopeColumn {
            binds.append(scope)
            sql += " AND \(column) = $3"
        }
        sql += " ORDER BY \"_seq\" LIMIT $2"
        return PostgresQuery(unsafeSQL: sql, binds: binds)
    }

    /// A profile table's part of a page: its rows read whole. Returns the rows read and the last sequence.
    private static func readProfiles(
        _ connection: PostgresConnection, _ layout: PostgresLayout, since cursor: FeedCursor, limit: Int,
        filter: FeedFilter, group: Int, into rows: inout [FeedRow], logger: Logger
    ) async throws -> (fetched: Int, last: Int64) {
        var fetched = 0
        var lastSequence = cursor.position
        let query = feedQuery(layout, columns: layout.selectList, since: cursor, limit: limit, filter: filter)
        for try await row in try await connection.run(query, logger: logger) {
            fetched += 1
            let (id, stored) = try layout.decode(row)
            lastSequence = stored.sequence
            if let (record, extras) = try feedRecord(layout, id: id, stored, cursor: cursor, filter: filter) {
                rows.append(FeedRow(sequence: stored.sequence, group: group, record: record, extras: extras))
            }
        }
        return (fetched, lastSequence)
    }

    /// A fact table's part of a page: each row's sequence and stamp from the stretch kept, then from
    /// PostgreSQL (with its id) for what it lacks; then, whole, only the rows neither filtered out nor kept in
    /// `facts` (decision record 0022). Returns the rows read and the last sequence. A row read whole that is
    /// not the one its stretch names (which 0022 rules out) makes it forget the stretch and read again
    /// without it (`useKept` false).
    private static func readFacts(
        _ connection: PostgresConnection, _ layout: PostgresLayout, collection: Int, facts: FactCache,
        snapshot: (head: Int64, last: Int64, moves: [Int64]), since cursor: FeedCursor, limit: Int, filter: FeedFilter,
        group: Int, into rows: inout [FeedRow], useKept: Bool = true, logger: Logger
    ) async throws -> (fetched: Int, last: Int64) {
        // The stretch this instance keeps of this table and scope first, then PostgreSQL for what it lacks.
        let key = FactCache.RangeKey(
            collection: collection, scope: layout.collection.scopeField == nil ? nil : filter.scope)
        let end = min(snapshot.head, snapshot.last)
        var read: [ThinRow] = []
        var position = cursor.position
        if useKept,
            let (kept, reached) = facts.known(key, moves: snapshot.moves, after: position, upTo: end, count: limit + 1)
        {
            read = kept.map { ThinRow(sequence: $0.sequence, stamp: $0.stamp, id: nil) }
            position = reached
        }
        if read.count <= limit, position < end {
            let first = read.count
            let budget = limit - read.count
            let query = feedQuery(
                layout, columns: "\"_seq\", \"_hlc\"[1], \"_node\"[1], id", since: FeedCursor(position),
                limit: budget, filter: filter)
            // Cell by cell: `decode` of a tuple is generic over a parameter pack, unspecialised, and looked up
            // its tuple's metadata on every row (a tenth of an instance's time in `perf`).
            for try await row in try await connection.run(query, logger: logger) {
                var cells = row.makeIterator()
                guard let first = cells.next(), let second = cells.next(), let third = cells.next(),
                    let fourth = cells.next()
                else { throw SyncError(.corruptReplica, "A \(layout.name) row has fewer columns than asked for.") }
                guard let node = NodeID(rawValue: try third.decode(Int64.self)) else {
                    throw SyncError(.corruptReplica, "A \(layout.name) row has an invalid node id.")
                }
                read.append(
                    ThinRow(
                        sequence: try first.decode(Int64.self),
                        stamp: Stamp(hlc: HLCTimestamp(storage: try second.decode(Int64.self)), node: node),
                        id: fourth.bytes ?? ByteBuffer()))
            }
            // All of (position, head] when the read was not cut, else up to its last row.
            let fresh = read[first...]
            let through = fresh.count > budget ? fresh.last!.sequence : snapshot.head
            facts.learn(
                key, moves: snapshot.moves, from: position, through: through,
                rows: fresh.map { (sequence: $0.sequence, stamp: $0.stamp) })
        }
        let fetched = read.count
        let lastSequence = read.last?.sequence ?? cursor.position
        let wanted = read.filter { !filter.excludes($0.stamp, sequence: $0.sequence) }
        var found = facts.entries(collection, for: wanted)
        let missing = zip(wanted, found).compactMap { $1 == nil ? $0.sequence : nil }
        if !missing.isEmpty {
            var binds = PostgresBindings()
            binds.append(missing)
            binds.append(missing.min()!)
            binds.append(missing.max()!)
            // The range too: without statistics on `_seq` (a table grown since autovacuum last analysed it),
            // PostgreSQL guesses that `= ANY` of a few hundred values matches most of the table, and reads all
            // of it (8.6 ms against 0.4 for 60 rows of 19,000); a range it guesses small.
            let query = PostgresQuery(
                unsafeSQL: "SELECT \(layout.selectList) FROM \(layout.table) WHERE \"_seq\" = ANY($1) "
                    + "AND \"_seq\" BETWEEN $2 AND $3",
                binds: binds)
            var read: [Int64: FactCache.Entry] = [:]
            for try await row in try await connection.run(query, logger: logger) {
                let (id, stored) = try layout.decode(row)
                guard let (record, extras) = try feedRecord(layout, id: id, stored, cursor: cursor, filter: .all) else {
                    continue
                }
                read[stored.sequence] = FactCache.Entry(stamp: record.stamp, record: record, extras: extras)
            }
            for index in found.indices where found[index] == nil {
                let row = wanted[index]
                guard let entry = read[row.sequence], entry.stamp == row.stamp, row.hasID(entry.record.id),
                    isInScope(entry.record, layout, filter)
                else {
                    guard useKept else {
                        throw SyncError(.corruptReplica, "A \(layout.name) row changed within its snapshot.")
                    }
                    logger.warning(
                        "A kept stretch of the feed did not match PostgreSQL: read again without it",
                        metadata: ["collection": "\(layout.name)", "sequence": "\(row.sequence)"])
                    facts.forget(key)
                    return try await readFacts(
                        connection, layout, collection: collection, facts: facts, snapshot: snapshot, since: cursor,
                        limit: limit, filter: filter, group: group, into: &rows, useKept: false, logger: logger)
                }
                found[index] = entry
            }
            facts.keep(collection, read.map { (sequence: $0.key, entry: $0.value) })
        }
        for (row, entry) in zip(wanted, found) {
            guard let entry else { continue }
            rows.append(FeedRow(sequence: row.sequence, group: group, record: entry.record, extras: entry.extras))
        }
        return (fetched, lastSequence)
    }

    /// Whether a fact belongs to the reader's scope (always, for a reader of all or a table without one).
    private static func isInScope(_ record: RecordChange, _ layout: PostgresLayout, _ filter: FeedFilter) -> Bool {
        guard let scope = filter.scope, let register = layout.scopeRegister else { return true }
        return record.cells.contains { $0.field == register && $0.value == .text(scope) }
    }

    /// What a reader at `cursor` gets of a row: a profile's registers changed since the cursor's base (all
    /// of them for a record that just moved into the reader's scope), a fact whole; nil when the filter
    /// leaves nothing.
    private static func feedRecord(
        _ layout: PostgresLayout, id: String, _ row: MergedRow, cursor: FeedCursor, filter: FeedFilter
    ) throws -> (RecordChange, [(name: String, value: Value, stamp: Stamp?)])? {
        var extras: [(name: String, value: Value, stamp: Stamp?)] = []
        guard layout.isProfile else {
            guard let stamp = row.factStamp else {
                throw SyncError(.corruptReplica, "A \(layout.name) row has an invalid node id.")
            }
            if filter.excludes(stamp, sequence: row.sequence) { return nil }
            let cells = row.values.enumerated().compactMap { register, value in
                value.isNull ? nil : Cell(field: register, value: value)
            }
            for (name, extra) in row.extra.sorted(by: { $0.key < $1.key }) where !layout.isRegister(name) {
                extras.append((name, extra.v, nil))
            }
            return (RecordChange(id: id, stamp: stamp, cells: cells), extras)
        }
        var since = cursor.base
        if filter.scope != nil, let scope = layout.scopeRegister, row.registerSequence[scope] > cursor.base {
            since = Int64.min
        }
        var cells: [Cell] = []
        var recordStamp: Stamp?
        for register in layout.registers.indices {
            guard let stamp = row.stamp(register: register), row.registerSequence[register] > since,
                !filter.excludes(stamp, sequence: row.registerSequence[register])
            else { continue }
            if recordStamp == nil { recordStamp = stamp }
            cells.append(Cell(field: register, value: row.values[register], stamp: stamp == recordStamp ? nil : stamp))
        }
        for (name, extra) in row.extra.sorted(by: { $0.key < $1.key }) {
            guard !layout.isRegister(name), let sequence = extra.s, sequence > since, let stamp = extra.stamp,
                !filter.excludes(stamp, sequence: sequence)
            else { continue }
            if recordStamp == nil { recordStamp = stamp }
            extras.append((name, extra.v, stamp == recordStamp ? nil : stamp))
        }
        guard let recordStamp, !cells.isEmpty || !extras.isEmpty else { return nil }
        return (RecordChange(id: id, stamp: recordStamp, cells: cells), extras)
    }

    /// The records that left `scope` at a sequence in (`after`, `through`] and are not back in it now (see
    /// the SQLite replica's `departures`).
    private static func departures(
        _ connection: PostgresConnection, layouts: [PostgresLayout], scope: String, after: Int64, through: Int64,
        logger: Logger
    ) async throws -> (gone: [(ref: RecordRef, refusal: Refusal?)], cut: Int64?) {
        let rows = try await connection.run(
            """
            SELECT collection, record_id, code, field, detail, seq FROM _departures
            WHERE scope = \(scope) AND seq > \(after) AND seq <= \(through) ORDER BY seq LIMIT \(FeedPage.maxLeft)
            """, logger: logger)
        var found: [(ref: RecordRef, refusal: Refusal?)] = []
        var last: Int64 = 0
        for try await (collection, id, code, field, detail, sequence) in rows.decode(
            (String, String, String?, String?, String?, Int64).self)
        {
            let ref = RecordRef(collection: collection, id: id)
            let refusal = code.map {
                Refusal(collection: collection, id: id, code: SyncError.Code($0), field: field, detail: detail ?? "")
            }
            found.append((ref, refusal))
            last = sequence
        }
        let cut = found.count == FeedPage.maxLeft ? last : nil
        var gone: [(ref: RecordRef, refusal: Refusal?)] = []
        for entry in found {
            guard let layout = layouts.first(where: { $0.name == entry.ref.collection }),
                let field = layout.collection.scopeField
            else { continue }
            var binds = PostgresBindings()
            binds.append(entry.ref.id)
            let now = try await connection.run(
                PostgresQuery(unsafeSQL: "SELECT \(quoted(field)) FROM \(layout.table) WHERE id = $1", binds: binds),
                logger: logger)
            var current: String?
            for try await value in now.decode(String?.self) { current = value }
            if current != scope { gone.append(entry) }
        }
        return (gone, cut)
    }
}

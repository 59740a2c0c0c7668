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
        return try await database.withTransaction { connection in
            let logger = self.logger
            // One snapshot for every table the page reads.
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
            var filter = filter
            if let peer = filter.excludingEchoOf {
                let rows = try await connection.query(
                    "SELECT lo, hi FROM _echo WHERE peer = \(peer) AND hi > \(cursor.base) ORDER BY lo", logger: logger)
                for try await (low, high) in rows.decode((Int64, Int64).self) {
                    filter.excludingSequences.insert(low...max(low, high))
                }
            }
            let start = cursor.skipping(filter.excludingSequences)
            var head: Int64 = 0
            for try await sequence in try await connection.query("SELECT seq FROM _meta WHERE id = 1", logger: logger)
                .decode(Int64.self)
            {
                head = sequence
            }
            if start.position >= head {
                return FeedPage(batch: ChangeBatch(), cursor: FeedCursor(max(head, start.position)), hasMore: false)
            }
            var page = try await Self.readFeed(
                connection, layouts: layouts, since: start, limit: limit, filter: filter, head: head, logger: logger)
            var skipped = 0
            while page.batch.isEmpty, page.hasMore, skipped < Self.maxSkippedPages {
                page = try await Self.readFeed(
                    connection, layouts: layouts, since: page.cursor, limit: limit, filter: filter, head: head,
                    logger: logger)
                skipped += 1
            }
            if let scope = filter.scope {
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

    private static func readFeed(
        _ connection: PostgresConnection, layouts: [PostgresLayout], since cursor: FeedCursor, limit: Int,
        filter: FeedFilter, head: Int64, logger: Logger
    ) async throws -> FeedPage {
        var rows: [FeedRow] = []
        var groups: [CollectionChanges] = []
        var bound = Int64.max
        for layout in layouts {
            let scoped = filter.scope != nil && layout.collection.scopeField != nil
            var binds = PostgresBindings()
            binds.append(cursor.position)
            binds.append(Int64(limit + 1))
            var sql = "SELECT \(layout.selectList) FROM \(layout.table) WHERE \"_seq\" > $1"
            if scoped, let scope = filter.scope, let field = layout.collection.scopeField {
                binds.append(scope)
                sql += " AND \(quoted(field)) = $3"
            }
            sql += " ORDER BY \"_seq\" LIMIT $2"
            let groupIndex = groups.count
            groups.append(CollectionChanges(name: layout.name, fields: layout.registers))
            var fetched = 0
            var lastSequence = cursor.position
            for try await row in try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
            {
                fetched += 1
                let (id, stored) = try layout.decode(row.makeRandomAccess())
                lastSequence = stored.sequence
                if let (record, extras) = try feedRecord(layout, id: id, stored, cursor: cursor, filter: filter) {
                    rows.append(FeedRow(sequence: stored.sequence, group: groupIndex, record: record, extras: extras))
                }
            }
            if fetched > limit { bound = min(bound, lastSequence) }
        }
        return FeedPage.assemble(rows, groups: groups, bound: bound, head: head, cursor: cursor, limit: limit)
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
        let rows = try await connection.query(
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
            let now = try await connection.query(
                PostgresQuery(unsafeSQL: "SELECT \(quoted(field)) FROM \(layout.table) WHERE id = $1", binds: binds),
                logger: logger)
            var current: String?
            for try await value in now.decode(String?.self) { current = value }
            if current != scope { gone.append(entry) }
        }
        return (gone, cut)
    }
}

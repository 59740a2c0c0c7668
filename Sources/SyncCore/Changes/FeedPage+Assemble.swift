/// A page of the change feed put together from the rows a store read (the SQLite replica's and central's
/// on PostgreSQL share it): in sequence order, cut at the bound and the limit, unknown fields named per group.
package struct FeedRow {
    package var sequence: Int64
    /// The position of its collection's group in the page.
    package var group: Int
    package var record: RecordChange
    /// Fields this schema does not know: named, given a position in the group once the page is cut.
    package var extras: [(name: String, value: Value, stamp: Stamp?)] = []

    package init(
        sequence: Int64, group: Int, record: RecordChange, extras: [(name: String, value: Value, stamp: Stamp?)] = []
    ) {
        self.sequence = sequence
        self.group = group
        self.record = record
        self.extras = extras
    }
}

extension FeedPage {
    /// Unknown field names a page lists per collection, so that a page stays within the fields a group may
    /// list (at most 63 registers + 64).
    package static let maxUnknownFieldsPerGroup = 64

    /// The page of `rows` (read from each collection in sequence order, after `cursor`, up to `limit + 1`
    /// per collection) in `groups` (one per collection, without records yet). `bound`: the smallest last
    /// sequence read among collections that had more rows than read (rows past it may exist unread; the page
    /// stops there), `Int64.max` when none had; `head`: the feed's head, where a page that ends the drain
    /// moves the cursor.
    package static func assemble(
        _ rows: consuming [FeedRow], groups: consuming [CollectionChanges], bound: Int64, head: Int64,
        cursor: FeedCursor, limit: Int
    ) -> FeedPage {
        // One table's rows come in sequence order already (a page of deliveries): sort only a mix.
        if rows.indices.dropFirst().contains(where: { rows[$0 - 1].sequence > rows[$0].sequence }) {
            rows.sort { $0.sequence < $1.sequence }
        }
        var next = FeedCursor(head)
        var hasMore = false
        if bound != Int64.max {
            rows.removeAll { $0.sequence > bound }
            next = FeedCursor(base: cursor.base, position: bound)
            hasMore = true
        }
        if rows.count > limit {
            rows.removeSubrange(limit...)
            next = FeedCursor(base: cursor.base, position: rows[limit - 1].sequence)
            hasMore = true
        }
        // Name the unknown fields, cutting the page before a row that would list too many in its group.
        var extraIndex = [[String: Int]](repeating: [:], count: groups.count)
        for (position, row) in rows.enumerated() {
            let group = row.group
            // Most rows carry no unknown field: nothing to name.
            if row.extras.isEmpty {
                groups[group].records.append(row.record)
                continue
            }
            let new = Set(row.extras.map(\.name).filter { extraIndex[group][$0] == nil })
            if extraIndex[group].count + new.count > Self.maxUnknownFieldsPerGroup, position > 0 {
                next = FeedCursor(base: cursor.base, position: rows[position - 1].sequence)
                hasMore = true
                break
            }
            var record = row.record
            for extra in row.extras {
                let field: Int
                if let known = extraIndex[group][extra.name] {
                    field = known
                } else {
                    groups[group].fields.append(extra.name)
                    field = groups[group].fields.count - 1
                    extraIndex[group][extra.name] = field
                }
                record.cells.append(Cell(field: field, value: extra.value, stamp: extra.stamp))
            }
            groups[group].records.append(record)
        }
        let batch = ChangeBatch(groups.filter { !$0.records.isEmpty })
        return FeedPage(batch: batch, cursor: next, hasMore: hasMore)
    }
}

import GRDB

/// A wrong clock, corrected: the offset learnt from servers, and pending stamps moved by it.
extension Replica {
    /// Milliseconds this node adds to its wall clock (0 unless a server found it wrong).
    public func clockOffsetMillis() throws -> Int64 {
        try read { db in try ReplicaMeta.int(db, .clockOffset) ?? 0 }
    }

    /// Sets the correction added to this node's wall clock for new stamps (learnt from a server).
    public func setClockOffset(_ millis: Int64) throws {
        do {
            try writer.write { db in try ReplicaMeta.set(db, .clockOffset, millis) }
        } catch {
            throw Self.storageError(error)
        }
    }

    /// This node's wall clock plus its correction (Unix ms): what its stamps are taken on. A time value a
    /// write puts into a record (a delivery's `delivered_at`) is read from it too, so that a clock repair
    /// moves it with the stamps (docs/protocol.md, section 13).
    public func correctedNowMillis() throws -> UInt64 {
        Self.corrected(configuration.clock.nowMillis(), by: try clockOffsetMillis())
    }

    static func corrected(_ now: UInt64, by offset: Int64) -> UInt64 {
        offset >= 0 ? now &+ UInt64(offset) : now - min(now, offset.magnitude)
    }

    /// Shifts this node's own stamps written after `cursor.base` (not acknowledged) by `offsetMillis`, when
    /// they were made with the wrong clock, keeping their order, and sets the clock after them. Returns how
    /// many stamps moved.
    ///
    /// For a node whose clock was wrong while it worked offline: its pending writes then order by when
    /// they really happened, so they neither win nor lose conflicts unfairly, and none is lost. Only the
    /// stamps the wrong clock made move (call it after correcting the clock): with a clock ahead, those
    /// beyond the drift bound of the corrected clock; with a clock behind, those that stay within it once
    /// moved. A stamp made before the clock went wrong stays: its write may already be on the server (an
    /// answer lost), and a copy under another stamp would never reach this node again (no echo).
    ///
    /// The time values the wrong clock wrote into this node's pending facts (their `timestamp` fields: a
    /// delivery's `delivered_at`) move by `offsetMillis` too, chosen by the same test on the value itself:
    /// a fact written after the clock jumped back keeps its stamp (the clock never goes back), not its
    /// time. A profile's time values are dates a person chose: they stay.
    @discardableResult
    public func repairPendingStamps(since cursor: FeedCursor, offsetMillis: Int64) throws -> Int {
        guard offsetMillis != 0 else { return 0 }
        let shift = offsetMillis.multipliedReportingOverflow(by: 1 << 16)
        guard !shift.overflow else {
            throw SyncError(.clockDrift, "A clock offset of \(offsetMillis) ms is impossible.")
        }
        func moved(_ hlc: Int64) -> Int64 {
            let maximum = Int64(HLCTimestamp.maxMillis) << 16
            return min(max(hlc.addingReportingOverflow(shift.partialValue).partialValue, 0), maximum)
        }
        return try withSession { session in
            let db = session.db
            let me = session.nodeID.rawValue
            // The corrected clock plus the drift bound: what a server accepts.
            let bound = Int64(clamping: session.now &+ configuration.maxClockDriftMillis) << 16 | 0xFFFF
            func wrong(_ hlc: Int64) -> Bool { offsetMillis < 0 ? hlc > bound : moved(hlc) <= bound }
            let which = offsetMillis < 0 ? "\"_hlc\" > ?5" : "\"_hlc\" + ?1 <= ?5"
            // Moved stamps stay after this node's stamps that do not move (those writes came first): the
            // moved ones go up together, by `extra`, when the shift would put one below them.
            // (Its own overwritten writes count too: they are in its history. Stamps beyond the bound are
            // the wrong clock's, not a floor.)
            var floor: Int64 =
                try Int64.fetchOne(
                    db, sql: "SELECT max(value_hlc) FROM _history WHERE value_node = ? AND value_hlc <= ?",
                    arguments: [me, bound])
                ?? -1
            var lowest = Int64.max
            for layout in layouts {
                if layout.isProfile {
                    let rows = try SQLStatement(db, "SELECT \"_seq\", \"_stamps\" FROM \(layout.table)")
                    while try rows.step() {
                        let row = rows.int64(0)
                        for entry in try layout.decodeStamps(rows, column: 1).entries {
                            guard let entry, entry.stamp.node.rawValue == me else { continue }
                            let hlc = entry.stamp.hlc.storage
                            if row > cursor.position, entry.sequence > cursor.base, wrong(hlc) {
                                lowest = min(lowest, moved(hlc))
                            } else if hlc <= bound {
                                floor = max(floor, hlc)
                            }
                        }
                    }
                } else {
                    let bounds = try Row.fetchOne(
                        db,
                        sql: """
                            SELECT (SELECT max("_hlc") FROM \(layout.table)
                                    WHERE "_node" = ?3 AND "_hlc" <= ?5 AND NOT ("_seq" > ?4 AND \(which))),
                                (SELECT min(max(0, min("_hlc" + ?1, ?2))) FROM \(layout.table)
                                    WHERE "_node" = ?3 AND "_seq" > ?4 AND \(which))
                            """,
                        arguments: [
                            shift.partialValue, Int64(HLCTimestamp.maxMillis) << 16, me, cursor.position, bound,
                        ])
                    if let top = bounds?[0] as Int64? { floor = max(floor, top) }
                    if let bottom = bounds?[1] as Int64? { lowest = min(lowest, bottom) }
                }
            }
            let extra = lowest == .max ? 0 : max(0, floor + 1 - lowest)
            func placed(_ hlc: Int64) -> Int64 { min(moved(hlc) + extra, Int64(HLCTimestamp.maxMillis) << 16) }
            func repaired(_ hlc: Int64) -> Int64 { wrong(hlc) ? placed(hlc) : hlc }
            var count = 0
            var newest: Int64 = 0
            for layout in layouts {
                if layout.isProfile {
                    // Rows not sent yet (mid-drain, a row at or before the position went with its fields).
                    try Self.rewriteStamps(db, layout, changedAfter: cursor.position) { entry in
                        guard entry.stamp.node.rawValue == me, entry.sequence > cursor.base,
                            wrong(entry.stamp.hlc.storage)
                        else {
                            newest = max(newest, entry.stamp.hlc.storage)
                            return false
                        }
                        entry.stamp.hlc = HLCTimestamp(storage: placed(entry.stamp.hlc.storage))
                        newest = max(newest, entry.stamp.hlc.storage)
                        count += 1
                        return true
                    }
                } else {
                    let limit = Int64(clamping: session.now &+ configuration.maxClockDriftMillis)
                    for field in layout.collection.fields where field.type == .timestamp {
                        let column = quote(field.name)
                        let range = field.range ?? 0...((1 << 48) - 1)
                        try db.execute(
                            sql: """
                                UPDATE \(layout.table) SET \(column) = min(max(\(column) + ?1, ?2), ?3)
                                WHERE "_node" = ?4 AND "_seq" > ?5
                                    AND \(offsetMillis < 0 ? "\(column) > ?6" : "\(column) + ?1 <= ?6")
                                """,
                            arguments: [offsetMillis, range.lowerBound, range.upperBound, me, cursor.position, limit])
                    }
                    try db.execute(
                        sql: """
                            UPDATE \(layout.table) SET "_hlc" = min(max(0, min("_hlc" + ?1, ?2)) + ?6, ?2)
                            WHERE "_node" = ?3 AND "_seq" > ?4 AND \(which)
                            """,
                        arguments: [
                            shift.partialValue, Int64(HLCTimestamp.maxMillis) << 16, me, cursor.position, bound, extra,
                        ])
                    count += db.changesCount
                    let top = try Int64.fetchOne(
                        db, sql: "SELECT max(\"_hlc\") FROM \(layout.table) WHERE \"_node\" = ? AND \"_seq\" > ?",
                        arguments: [me, cursor.position])
                    newest = max(newest, top ?? 0)
                }
            }
            // The clock restarts after the moved stamps (and after what it saw from others, shifted too
            // when it was ahead: those were accepted within the drift bound of the wrong clock).
            session.clock = HybridLogicalClock(
                last: HLCTimestamp(storage: max(newest, repaired(session.clock.last.storage))),
                maxDriftMillis: configuration.maxClockDriftMillis)
            return count
        }
    }

    /// Rewrites the register stamps of a profile's rows last changed after `position`: `body` gets each
    /// stamped register and returns whether it changed it; a row is written back only when one did.
    static func rewriteStamps(
        _ db: Database, _ layout: TableLayout, changedAfter position: Int64,
        _ body: (inout RegisterStamps.Entry) throws -> Bool
    ) throws {
        let rows = try SQLStatement(db, "SELECT rowid, \"_stamps\" FROM \(layout.table) WHERE \"_seq\" > ?1")
        rows.bind(position, at: 1)
        let update = try SQLStatement(db, "UPDATE \(layout.table) SET \"_stamps\" = ?1 WHERE rowid = ?2")
        while try rows.step() {
            var stamps = try layout.decodeStamps(rows, column: 1)
            var changed = false
            for (register, entry) in stamps.entries.enumerated() {
                guard var entry else { continue }
                if try body(&entry) {
                    stamps.entries[register] = entry
                    changed = true
                }
            }
            guard changed else { continue }
            update.bind(bytes: stamps.encoded(slots: layout.slots), at: 1)
            update.bind(rows.int64(0), at: 2)
            try update.run()
        }
    }
}

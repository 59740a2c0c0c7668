import Logging
package import PostgresNIO
package import SyncCore

/// The merge of a batch into central's tables, in one transaction: `_meta` locked first (decision record
/// 0013: one writer at a time, sequences in commit order), every row the batch touches read in one query
/// per collection, the merge decided in memory (``PostgresWriteSession``), what changed written back in one
/// statement per table.
extension PostgresStore {
    /// Merges a batch from another node (`sender`: its own stamps are held to the drift bound; nil: every
    /// stamp), with the server's clock at `now` (Unix ms). The semantics of the SQLite replica's
    /// `apply(_:from:sender:…)`: idempotent, commutative, associative; a malformed batch, or one with a
    /// stamp too far ahead, changes nothing.
    package func merge(_ batch: ChangeBatch, sender: NodeID?, now: Int64) async throws -> ApplyReport {
        let plan = try BatchPlan(batch, schema: schema, sender: sender, scope: nil)
        return try await database.withTransaction { connection in
            try await self.merge(
                batch, plan: plan, from: nil, scope: nil, now: now, connection: connection, before: { _ in }
            ).report
        }
    }

    /// The merge inside the caller's transaction: `before` run (a client's lease move), `_meta` locked, the
    /// rows read, the merge decided, refused records kept for the admin (`source`: who sent them; nil from
    /// another replica), the rows written. `scope`: a client's push (every record must lie in it, and the
    /// checks of a client's records apply); nil from the admin or another replica.
    package func merge(
        _ batch: ChangeBatch, plan: BatchPlan, from source: String?, scope: String?, now: Int64,
        connection: PostgresConnection, before: (PostgresConnection) async throws -> Void
    ) async throws -> (report: ApplyReport, session: PostgresWriteSession, start: Int64) {
        let layouts = self.layouts
        let maxDrift = maxClockDriftMillis
        // What needs no record (a client's lease, under its node's own lock) runs before the feed's lock is
        // taken: every writer waits for that lock, so it is held for the merge alone.
        try await before(connection)
        let meta = try await Self.lockMeta(connection, logger: logger)
        var rows: [[String: MergedRow]] = Array(repeating: [:], count: layouts.count)
        let touched = Self.touchedIDs(batch, plan: plan, layouts: layouts, references: source != nil)
        for (index, ids) in touched {
            rows[index] = try await Self.readRows(connection, layouts[index], ids: ids, logger: logger)
        }
        // The rows just read answer the rules too, the ids not found included.
        var reads = PostgresRuleReads()
        for (index, ids) in touched { reads.noteRead(index, ids: ids, found: rows[index]) }
        var session: PostgresWriteSession
        var refused: [Refusal] = []
        var pass = 0
        while true {
            pass += 1
            session = PostgresWriteSession(
                layouts: layouts, clock: HybridLogicalClock(last: meta.hlc, maxDriftMillis: maxDrift),
                sequence: meta.sequence, nodeID: meta.node, previousNodeID: meta.previousNode,
                checkedAt: UInt64(max(0, now)), rows: rows)
            session.scope = scope
            session.fromClient = source != nil
            session.rules = source != nil ? schema.rules : nil
            session.ruleReads = reads
            session.passes = pass
            do {
                refused = try Self.mergeDecided(batch, plan: plan, session: session, maxDrift: maxDrift)
            } catch  where !session.ruleMisses.isEmpty {
                // A pass that met reads not made yet answered them provisionally: its outcome does not count.
            }
            guard !session.ruleMisses.isEmpty else { break }
            guard pass < PostgresRuleReads.maxPasses else {
                throw SyncError(
                    .schema,
                    "The domain's rules still asked for records not read after \(pass) passes over this push.")
            }
            // Every read the pass missed, at once (one query per collection), then the merge again.
            try await Self.read(
                session.ruleMisses, into: &reads, layouts: layouts, connection: connection, logger: logger)
        }
        if !refused.isEmpty {
            try await Self.keepRefused(
                refused, batch: batch, source: source, now: now, connection: connection, logger: logger)
            refused = session.markStaying(refused)
        }
        let conflicts = try await Self.flush(session, connection: connection, logger: logger)
        let report = ApplyReport(
            records: batch.recordCount, conflicts: conflicts, cursor: FeedCursor(session.sequence), refused: refused)
        return (report, session, meta.sequence)
    }

    /// The server's clock and the feed's head, locked until the transaction ends.
    struct Meta {
        var hlc: HLCTimestamp
        var sequence: Int64
        var node: NodeID
        var previousNode: NodeID?
    }

    static func lockMeta(_ connection: PostgresConnection, logger: Logger) async throws -> Meta {
        let rows = try await connection.query(
            "SELECT hlc, seq, node_id, previous_node_id FROM _meta WHERE id = 1 FOR UPDATE", logger: logger)
        for try await (hlc, sequence, node, previous) in rows.decode((Int64, Int64, Int64, Int64?).self) {
            guard let node = NodeID(rawValue: node) else { break }
            return Meta(
                hlc: HLCTimestamp(storage: hlc), sequence: sequence, node: node,
                previousNode: previous.flatMap(NodeID.init(rawValue:)))
        }
        throw SyncError(.corruptReplica, "Central's _meta row cannot be read: run `sync-server migrate`.")
    }

    /// Per collection (by layout index), the ids of the batch's records, and with `references` (a client's
    /// records) of the records they name in a reference (their scope is checked against the record's).
    static func touchedIDs(
        _ batch: ChangeBatch, plan: BatchPlan, layouts: [PostgresLayout], references: Bool
    ) -> [Int: [String]] {
        var ids: [Int: Set<String>] = [:]
        for (groupIndex, group) in batch.collections.enumerated() {
            let collection = plan.collectionIndex[groupIndex]
            let fields = layouts[collection].collection.fields
            var targets: [Int: Int] = [:]
            for (position, register) in plan.registerMap[groupIndex].enumerated() where references && register >= 0 {
                if register < fields.count, let target = fields[register].references,
                    let index = layouts.firstIndex(where: { $0.name == target })
                {
                    targets[position] = index
                }
            }
            for record in group.records {
                ids[collection, default: []].insert(record.id)
                for cell in record.cells {
                    if let target = targets[cell.field], case .text(let id) = cell.value {
                        ids[target, default: []].insert(id)
                    }
                }
            }
        }
        return ids.mapValues { $0.sorted() }
    }

    /// The clock checks and the merge of each record, as the SQLite replica's `merge` orders them; the
    /// refusals of the plan.
    static func mergeDecided(
        _ batch: ChangeBatch, plan: BatchPlan, session: PostgresWriteSession, maxDrift: UInt64
    ) throws -> [Refusal] {
        let now = session.checkedAt
        session.refusals = plan.refusals
        if let own = plan.newestOwn {
            do {
                try session.clock.check(own.hlc, now: now)
            } catch {
                throw SyncError.drift(error, .stampsAhead, stamp: own, bound: maxDrift)
            }
        }
        if let newest = plan.newest {
            do {
                try session.clock.observe(newest.hlc, now: now, boundMillis: maxDrift &* 2)
            } catch {
                throw SyncError.drift(error, .relayedStampsAhead, stamp: newest, bound: maxDrift &* 2)
            }
        }
        for (groupIndex, group) in batch.collections.enumerated() {
            let collection = plan.collectionIndex[groupIndex]
            let layout = session.layouts[collection]
            let map = plan.registerMap[groupIndex]
            let order = group.mergeOrder(profile: layout.isProfile)
            let refused = plan.refused[groupIndex]
            for index in order where !refused.contains(index) {
                do {
                    try merge(
                        group.records[index], fields: group.fields, collection: collection, map: map, session: session)
                } catch let error as RefusedRecord {
                    // Thrown before anything of the record was written: the batch goes on without it.
                    session.refusals.append(error.refusal)
                }
            }
        }
        guard session.refusals.count <= Refusal.maxPerAnswer else {
            throw SyncError(
                .invalidBatch,
                "More than \(Refusal.maxPerAnswer) records of this push were refused; nothing was applied. The "
                    + "first: \(session.refusals[0].detail)")
        }
        return session.refusals
    }

    private static func merge(
        _ record: RecordChange, fields: [String], collection: Int, map: [Int], session: PostgresWriteSession
    ) throws {
        guard session.layouts[collection].isProfile else {
            var values: [(register: Int, value: Value)] = []
            var extras: [String: ExtraCell] = [:]
            for cell in record.cells {
                if map[cell.field] >= 0 {
                    values.append((map[cell.field], cell.value))
                } else {
                    extras[fields[cell.field]] = ExtraCell(v: cell.value)
                }
            }
            return try session.insertFact(collection, record: record, values: values, extras: extras)
        }
        var known: [(register: Int, value: Value, stamp: Stamp)] = []
        var extras: [(name: String, value: Value, stamp: Stamp)] = []
        for cell in record.cells {
            let register = map[cell.field]
            if register >= 0 {
                known.append((register, cell.value, cell.stamp ?? record.stamp))
            } else {
                extras.append((fields[cell.field], cell.value, cell.stamp ?? record.stamp))
            }
        }
        if !known.isEmpty { try session.mergeProfile(collection, id: record.id, cells: known) }
        if !extras.isEmpty { try session.mergeExtras(collection, id: record.id, extras: extras) }
    }
}

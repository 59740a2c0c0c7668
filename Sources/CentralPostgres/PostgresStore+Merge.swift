import Logging
package import PostgresNIO
package import SyncCore

/// The merge of a batch into central's tables, in one transaction: every row the batch touches read in one
/// query per collection, the merge decided in memory (``PostgresWriteSession``), what changed written back
/// in one statement that first takes the lock on `_meta`, kept to the commit (decision record 0013: one
/// writer at a time, sequences in commit order). The reads come before the lock (decision record 0015);
/// the write checks, under the lock, that nothing read has changed since, and moves the merge's sequences
/// past the head it finds (decision record 0023). If something read has changed, the transaction ends
/// with nothing written, and the merge is made again with the lock taken first.
extension PostgresStore {
    /// Merges a batch from another node (`sender`: its own stamps are held to the drift bound; nil: every
    /// stamp), with the server's clock at `now` (Unix ms). The semantics of the SQLite replica's
    /// `apply(_:from:sender:…)`: idempotent, commutative, associative; a malformed batch, or one with a
    /// stamp too far ahead, changes nothing.
    package func merge(_ batch: ChangeBatch, sender: NodeID?, now: Int64) async throws -> ApplyReport {
        let plan = try BatchPlan(batch, schema: schema, sender: sender, scope: nil)
        return try await mergeInTransaction(batch, plan: plan, from: nil, scope: nil, now: now).report
    }

    /// A merge's outcome, for the tests: how many passes over the batch the domain's rules took, and whether
    /// it was made again with the lock taken first (a row it read had changed meanwhile).
    package struct MergeOutcome: Sendable {
        package var report: ApplyReport
        package var passes: Int
        package var readAgain: Bool
    }

    /// The merge in a transaction of its own (see ``merge(_:plan:from:scope:sender:role:now:lockFirst:commit:connection:before:)``),
    /// made again with the lock taken first when its write found that a row it read had changed.
    package func mergeInTransaction(
        _ batch: ChangeBatch, plan: BatchPlan, from source: String?, scope: String?, sender: NodeID? = nil,
        role: Principal.Role? = nil, now: Int64,
        before: @escaping @Sendable (PostgresConnection) async throws -> Void = { _ in }
    ) async throws -> MergeOutcome {
        do {
            return try await database.withTransaction(bodyCommits: true) { connection in
                try await self.merge(
                    batch, plan: plan, from: source, scope: scope, sender: sender, role: role, now: now,
                    commit: true, connection: connection, before: before)
            }
        } catch let error as SyncError where error.underlying is ReadsChanged {
            var outcome = try await database.withTransaction { connection in
                try await self.merge(
                    batch, plan: plan, from: source, scope: scope, sender: sender, role: role, now: now,
                    lockFirst: true, connection: connection, before: before)
            }
            outcome.readAgain = true
            return outcome
        }
    }

    /// The merge inside the caller's transaction: `before` run (a client's lease move), the rows read, the
    /// merge decided, then the write, which takes `_meta`'s lock (and keeps the sequences taken as the
    /// client's echo), and the refused records kept for the admin (`source`: the client's peer key; nil
    /// from another replica). `scope`: a client's push (every record must lie in it, and the checks of a client's
    /// records apply); nil from the admin or another replica.
    ///
    /// With `lockFirst`, the lock is taken before the reads. Else, when a row read changed before the
    /// write took the lock, the write throws `.unavailable` (its `underlying` error: ``ReadsChanged``), and
    /// the transaction can only be rolled back. With `commit`, the transaction is committed when this
    /// returns (the write's commit queued behind it).
    package func merge(
        _ batch: ChangeBatch, plan: BatchPlan, from source: String?, scope: String?, sender: NodeID? = nil,
        role: Principal.Role? = nil, now: Int64, lockFirst: Bool = false, commit: Bool = false,
        connection: PostgresConnection, before: (PostgresConnection) async throws -> Void
    ) async throws -> MergeOutcome {
        let merge = MergeInputs(
            batch: batch, plan: plan, scope: scope, sender: sender, role: role, fromClient: source != nil, now: now,
            layouts: layouts,
            rules: source != nil ? schema.rules : nil, maxDrift: maxClockDriftMillis)
        // What needs no record (a client's lease, under its node's own lock) runs first.
        try await before(connection)
        if !lockFirst {
            // Read and decided without the feed's lock, against the head as it is now. A batch that fails
            // here is decided again under the lock: what it met may have changed.
            let seen = try await Self.readMeta(connection, lock: false, logger: logger)
            var early: Decided?
            do {
                early = try await merge.readAndDecide(meta: seen, connection: connection, logger: logger)
            } catch is SyncError {
                early = nil
            }
            if let early {
                return try await write(
                    early, batch: batch, source: source, head: seen.sequence,
                    lock: .inStatement(seen: seen.sequence, check: early.check()), now: now, commit: commit,
                    connection: connection)
            }
        }
        // Under the lock now: nothing changes meanwhile.
        let meta = try await Self.readMeta(connection, lock: true, logger: logger)
        let locked = try await merge.readAndDecide(meta: meta, connection: connection, logger: logger)
        return try await write(
            locked, batch: batch, source: source, head: meta.sequence, lock: .held, now: now, commit: commit,
            connection: connection)
    }

    /// Writes a decided merge (decided on the head `head`), then keeps its refused records for the admin
    /// (after the write: every writer takes `_meta`'s lock before `_refused`'s keys, and the bound on a
    /// client's open refusals is counted under the lock); with `commit`, commits, queued behind the write
    /// when nothing was refused.
    private func write(
        _ decided: Decided, batch: ChangeBatch, source: String?, head: Int64, lock: WriteLock, now: Int64,
        commit: Bool, connection: PostgresConnection
    ) async throws -> MergeOutcome {
        var refused = decided.refused
        let written = try await Self.flush(
            decided.session, order: decided.touched, echo: source.map { ($0, head) }, lock: lock,
            commit: commit && refused.isEmpty,
            connection: connection, logger: logger)
        if !refused.isEmpty {
            try await Self.keepRefused(
                refused, batch: batch, source: source, now: now, connection: connection, logger: logger)
            refused = decided.session.markStaying(refused)
            if commit { try await connection.run("COMMIT", logger: logger) }
        }
        let report = ApplyReport(
            records: batch.recordCount, conflicts: written.conflicts,
            cursor: FeedCursor(decided.session.sequence + written.shift), refused: refused)
        return MergeOutcome(report: report, passes: decided.session.passes, readAgain: false)
    }

    /// The server's clock and the feed's head (with `lock`: locked until the transaction ends).
    struct Meta: Equatable {
        var hlc: HLCTimestamp
        var sequence: Int64
        var node: NodeID
        var previousNode: NodeID?
    }

    static func readMeta(_ connection: PostgresConnection, lock: Bool, logger: Logger) async throws -> Meta {
        let rows = try await connection.run(
            PostgresQuery(
                unsafeSQL: "SELECT hlc, seq, node_id, previous_node_id FROM _meta WHERE id = 1"
                    + (lock ? " FOR UPDATE" : "")),
            logger: logger)
        for try await (hlc, sequence, node, previous) in rows.decode((Int64, Int64, Int64, Int64?).self) {
            guard let node = NodeID(rawValue: node) else { break }
            return Meta(
                hlc: HLCTimestamp(storage: hlc), sequence: sequence, node: node,
                previousNode: previous.flatMap(NodeID.init(rawValue:)))
        }
        throw SyncError(.corruptReplica, "Central's _meta row cannot be read: run `sync-server migrate`.")
    }

    /// A merge decided in memory: the ids of the rows it read, what the rules read, the session and its
    /// refusals.
    struct Decided {
        var touched: [Int: [String]]
        var reads: PostgresRuleReads
        var session: PostgresWriteSession
        var refused: [Refusal]

        /// What was read, to check under the lock (see ``ReadCheck``): the batch's rows, and the records
        /// the rules asked for besides.
        func check() -> ReadCheck {
            var ids = touched
            for (index, list) in reads.missedIDs { ids[index, default: []] += list }
            let collections = Set(reads.whole.keys).union(reads.tooLarge).union(reads.first.keys)
            return ReadCheck(ids: ids, collections: collections)
        }
    }

    /// A batch and what its merge depends on besides the rows.
    struct MergeInputs {
        var batch: ChangeBatch
        var plan: BatchPlan
        var scope: String?
        /// The client of a push and its token's role (what the rules know of a record's writer).
        var sender: NodeID? = nil
        var role: Principal.Role? = nil
        var fromClient: Bool
        var now: Int64
        var layouts: [PostgresLayout]
        var rules: (any RecordRules)?
        var maxDrift: UInt64

        /// Reads the rows the batch touches, decides the merge, and reads what the rules missed before
        /// deciding it again, until they miss nothing.
        func readAndDecide(meta: Meta, connection: PostgresConnection, logger: Logger) async throws -> Decided {
            var rows: [[String: MergedRow]] = Array(repeating: [:], count: layouts.count)
            let touched = PostgresStore.touchedIDs(batch, plan: plan, layouts: layouts, references: fromClient)
            for (index, ids) in touched {
                rows[index] = try await PostgresStore.readRows(connection, layouts[index], ids: ids, logger: logger)
            }
            // The rows just read answer the rules too, the ids not found included.
            var reads = PostgresRuleReads()
            if rules != nil {
                for (index, ids) in touched { reads.noteRead(index, ids: ids, found: rows[index]) }
            }
            var pass = 1
            while true {
                let decided = try decide(rows, reads, touched: touched, meta: meta, pass: pass)
                guard !decided.session.ruleMisses.isEmpty else { return decided }
                guard pass < PostgresRuleReads.maxPasses else {
                    throw SyncError(
                        .schema,
                        "The domain's rules still asked for records not read after \(pass) passes over this push.")
                }
                // Every read the pass missed, at once (one query per collection), then the merge again.
                try await PostgresStore.read(
                    decided.session.ruleMisses, into: &reads, layouts: layouts, connection: connection, logger: logger)
                pass += 1
            }
        }

        /// The merge decided in memory on these rows (of the ids `touched`) and reads, with the server's clock
        /// and head in `meta`.
        func decide(
            _ rows: [[String: MergedRow]], _ reads: PostgresRuleReads, touched: [Int: [String]], meta: Meta, pass: Int
        ) throws -> Decided {
            let session = PostgresWriteSession(
                layouts: layouts, clock: HybridLogicalClock(last: meta.hlc, maxDriftMillis: maxDrift),
                sequence: meta.sequence, nodeID: meta.node, previousNodeID: meta.previousNode,
                checkedAt: UInt64(max(0, now)), rows: rows)
            // Room for every row the batch may write, at once (not grown row by row).
            for (index, ids) in touched { session.reserve(index, ids.count) }
            session.scope = scope
            session.sender = sender
            session.role = role
            session.fromClient = fromClient
            session.rules = rules
            session.ruleReads = reads
            session.passes = pass
            var refused: [Refusal] = []
            do {
                refused = try PostgresStore.mergeDecided(batch, plan: plan, session: session, maxDrift: maxDrift)
            } catch  where !session.ruleMisses.isEmpty {
                // A pass that met reads not made yet answered them provisionally: its outcome does not count.
            }
            return Decided(touched: touched, reads: reads, session: session, refused: refused)
        }
    }

    /// Per collection (by layout index), the ids of the batch's records, and with `references` (a client's
    /// records) of the records they name in a reference (their scope is checked against the record's);
    /// sorted, each once (by sorting, not hashing: a page's ids are mostly distinct).
    static func touchedIDs(
        _ batch: ChangeBatch, plan: BatchPlan, layouts: [PostgresLayout], references: Bool
    ) -> [Int: [String]] {
        var ids: [Int: [String]] = [:]
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
            ids[collection, default: []].reserveCapacity(group.records.count)
            for record in group.records {
                ids[collection, default: []].append(record.id)
                guard !targets.isEmpty else { continue }
                for cell in record.cells {
                    // Only an id can name a record (a record refused for its reference may still be here).
                    if let target = targets[cell.field], case .text(let id) = cell.value, RecordRef.isValidID(id) {
                        ids[target, default: []].append(id)
                    }
                }
            }
        }
        return ids.mapValues { list in
            var unique: [String] = []
            unique.reserveCapacity(list.count)
            for id in list.sorted() where id != unique.last { unique.append(id) }
            return unique
        }
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

extension Replica {
    /// Merges a batch of changes from another node, in one transaction: all of it or none.
    ///
    /// Idempotent, commutative and associative: profile registers keep the greatest stamp, facts are a
    /// set union, tombstones stay. A batch that is malformed, names an unknown collection, or carries a
    /// stamp more than the drift bound ahead of this node's clock (and of every stamp it has seen) is
    /// refused whole (`SyncError`) and changes nothing, not even the clock. Fields this schema does not
    /// know are kept and forwarded.
    @discardableResult
    public func apply(_ batch: ChangeBatch) throws -> ApplyReport {
        let plan = try BatchPlan(batch, schema: schema)
        // A stamp too far ahead throws inside the transaction, which rolls back: nothing moves.
        return try withSession { session in
            var report = try merge(batch, plan: plan, session: session)
            report.refused = try session.markStaying()
            return report
        }
    }

    func merge(_ batch: ChangeBatch, plan: BatchPlan, session: WriteSession) throws -> ApplyReport {
        // The sender's own stamps are held to the drift bound (its clock made them: it can repair them).
        // Stamps it relays were admitted within that bound by the server where they entered, whose clock
        // was within it of the sender's: twice the bound, or clock errors that each stay within it (a hub
        // a few minutes off, a device a few minutes off that hub) would block the relay.
        let now = session.checkedAt ?? session.now
        let refusedBefore = session.refusals.count
        session.refusals += plan.refusals
        if let own = plan.newestOwn {
            do {
                try session.clock.check(own.hlc, now: now)
            } catch {
                throw SyncError.drift(error, .stampsAhead, stamp: own, bound: configuration.maxClockDriftMillis)
            }
        }
        if let newest = plan.newest {
            // Past the sender's own check: a stamp refused here is another node's.
            do {
                try session.clock.observe(newest.hlc, now: now, boundMillis: configuration.maxRelayedDriftMillis)
            } catch {
                throw SyncError.drift(
                    error, .relayedStampsAhead, stamp: newest, bound: configuration.maxRelayedDriftMillis)
            }
        }
        for (groupIndex, group) in batch.collections.enumerated() {
            let layout = layouts[plan.collectionIndex[groupIndex]]
            let map = plan.registerMap[groupIndex]
            let order = group.mergeOrder(profile: layout.isProfile)
            let refused = plan.refused[groupIndex]
            for index in order {
                if !refused.isEmpty, refused.contains(index) { continue }
                do {
                    try apply(group.records[index], group: group, layout: layout, map: map, session: session)
                } catch let error as RefusedRecord {
                    // Thrown before anything of the record was written: the batch goes on without it.
                    session.refusals.append(error.refusal)
                }
            }
        }
        if session.refusals.count > refusedBefore {
            guard session.refusals.count <= Refusal.maxPerAnswer else {
                throw SyncError(
                    .invalidBatch,
                    "More than \(Refusal.maxPerAnswer) records of this push were refused; nothing was applied. The "
                        + "first: \(session.refusals[0].detail)")
            }
            try session.keepRefused(session.refusals[refusedBefore...], batch: batch)
        }
        return ApplyReport(
            records: batch.recordCount, conflicts: session.conflicts, cursor: FeedCursor(session.sequence),
            refused: session.refusals)
    }

    private func apply(
        _ record: RecordChange, group: CollectionChanges, layout: TableLayout, map: [Int], session: WriteSession
    ) throws {
        guard layout.isProfile else {
            return try session.insertRemoteFact(layout, record: record, fields: group.fields, map: map)
        }
        var extras: [(name: String, value: Value, stamp: Stamp)] = []
        var known: [(register: Int, value: Value, stamp: Stamp)] = []
        known.reserveCapacity(record.cells.count)
        for cell in record.cells {
            let register = map[cell.field]
            if register >= 0 {
                known.append((register, cell.value, cell.stamp ?? record.stamp))
            } else {
                extras.append((group.fields[cell.field], cell.value, cell.stamp ?? record.stamp))
            }
        }
        if !known.isEmpty { try session.mergeProfile(layout, id: record.id, cells: known) }
        if !extras.isEmpty { try session.mergeExtras(layout, id: record.id, extras: extras) }
    }
}

/// The checks of a request that need no storage: done before the store is called.
extension SyncService {
    /// A push from a client whose clock is more than the drift bound away is refused whole, with the
    /// offset to add and which way it is off.
    func checkClock(_ request: SyncRequest, now: Int64) throws {
        let offset = now.subtractingReportingOverflow(request.clockMillis)
        let bound = Int64(clamping: store.maxClockDriftMillis)
        guard offset.overflow || abs(offset.partialValue) > bound else { return }
        let millis = offset.overflow ? (request.clockMillis > 0 ? Int64.min : Int64.max) : offset.partialValue
        throw SyncError(
            .clockDrift,
            "This device's clock is \(TimeSpan.describe(millis: millis.magnitude)) "
                + (millis < 0 ? "ahead of" : "behind") + " the server's (limit "
                + "\(TimeSpan.describe(millis: store.maxClockDriftMillis))). Correct the clock by "
                + "offset_ms and repair the pending stamps, then sync again; nothing was applied.",
            clockOffsetMillis: millis, clockDriftCause: millis < 0 ? .clockAhead : .clockBehind)
    }

    /// A device pushes only what it wrote; nobody pushes as the server itself.
    func checkOrigins(_ batch: ChangeBatch, request: SyncRequest, principal: Principal) throws {
        /// Why a stamp by `node` may not be pushed by this client, or nil (no message is built for one that may).
        func refusal(_ node: NodeID, record: RecordChange, group: CollectionChanges) -> String? {
            if principal.role == .device, node != request.node {
                return "Record \(record.id) of '\(group.name)' is stamped by node \(node), not by this device "
                    + "(\(request.node)): a device pushes only its own changes. Nothing was applied."
            }
            if principal.role != .admin, node == store.nodeID {
                return "Record \(record.id) of '\(group.name)' claims this server's own node id. Nothing was applied."
            }
            return nil
        }
        for group in batch.collections {
            // Read in place: no copy of each record.
            try group.records.withUnsafeBufferPointer { records in
                for index in records.indices {
                    let record = records[index]
                    if let message = refusal(record.stamp.node, record: record, group: group) {
                        throw SyncError(.outOfScope, message)
                    }
                    for cell in record.cells {
                        if let node = cell.stamp?.node, let message = refusal(node, record: record, group: group) {
                            throw SyncError(.outOfScope, message)
                        }
                    }
                }
            }
        }
    }
}

import Dispatch
import Synchronization

/// ``PushStream`` over a replica: a merge on ``StreamedApply/queue`` applies each run in one open write
/// transaction while the request's decoder reads the next (decision record 0012 has the A/B that keeps
/// it). The merge waits for the decoder's runs on a semaphore, holding the write lock: hence a stream
/// only for a token already bound (see ``SyncStore/beginPush(client:scope:now:)``).
final class StreamedApply: PushStream {
    /// Where streamed pushes merge: one at a time, as their transactions take turns on the write lock
    /// anyway. A queue of its own, so that a merge waiting for its decoder never holds a thread the
    /// cooperative pool or another store call needs.
    static let queue = DispatchQueue(label: "fieldsync.streamed-merge", qos: .userInitiated)

    /// How long the merge waits for the decoder's next step before it gives up and rolls back (the
    /// decoder always ends a stream; this guards the write lock against a bug, not a client).
    static let stallSeconds = 60.0

    enum Item: Sendable {
        case chunk(CollectionChanges)
        case finish(Tail)
        case abort
    }

    struct Tail: Sendable {
        var lease: LeaseMove?
        var pruneEchoBelow: Int64?
        /// The records of the decoded push, which the runs must add up to.
        var records: Int
    }

    private struct State: ~Copyable {
        var items: [Item] = []
        var ended = false
        /// Taken ahead of the runs still queued: a request that fails rolls back at once, without merging
        /// what it had handed on.
        var aborted = false
        var result: Result<ApplyReport, any Error>?
        var waiting: CheckedContinuation<ApplyReport?, Never>?
    }

    private let state = Mutex(State())
    private let available = DispatchSemaphore(value: 0)

    /// Starts the merge of what `client` pushes to `replica`, with the principal's `scope`, the server's
    /// clock at `now` (Unix ms).
    init(replica: Replica, client: NodeID, scope: String?, role: Principal.Role?, now: Int64) {
        Self.queue.async { [self] in
            let result = Result {
                try replica.applyStreamed(
                    from: ClientPush.peerKey(client: client), sender: client, scope: scope, role: role, serverClock: now
                ) { try self.next() }
            }
            let waiting = state.withLock { state in
                state.result = result
                return state.waiting.take()
            }
            waiting?.resume(returning: try? result.get())
        }
    }

    func offer(_ records: CollectionChanges) {
        _ = enqueue(.chunk(records), ending: false)
    }

    func finish(lease: LeaseMove?, pruneEchoBelow: Int64?, records: Int) async -> ApplyReport? {
        guard enqueue(.finish(Tail(lease: lease, pruneEchoBelow: pruneEchoBelow, records: records)), ending: true)
        else { return nil }
        return await withCheckedContinuation { continuation in
            let result: Result<ApplyReport, any Error>? = state.withLock { state in
                if state.result == nil { state.waiting = continuation }
                return state.result
            }
            if let result { continuation.resume(returning: try? result.get()) }
        }
    }

    func abort() {
        if enqueue(.abort, ending: true) { state.withLock { $0.aborted = true } }
    }

    private func enqueue(_ item: Item, ending: Bool) -> Bool {
        let queued = state.withLock { state -> Bool in
            guard !state.ended else { return false }
            state.ended = ending
            state.items.append(item)
            return true
        }
        if queued { available.signal() }
        return queued
    }

    /// The decoder's next step (blocks the merge until there is one).
    private func next() throws -> Item {
        guard available.wait(timeout: .now() + Self.stallSeconds) == .success else {
            throw SyncError(.storage, "A streamed push stalled; rolled back.")
        }
        return state.withLock { $0.aborted ? .abort : $0.items.removeFirst() }
    }
}

extension Replica {
    /// The merge side of a ``StreamedApply``: one transaction, run by run, each checked as a batch of its
    /// own (the checks are per record), then the lease and the echo as in
    /// ``apply(_:from:sender:scope:fromClient:pruneEchoBelow:serverClock:lease:progress:)``.
    fileprivate func applyStreamed(
        from peer: String, sender: NodeID, scope: String?, role: Principal.Role?, serverClock: Int64,
        next: () throws -> StreamedApply.Item
    ) throws -> ApplyReport {
        try withSession { session in
            session.checkedAt = UInt64(max(0, serverClock))
            session.scope = scope
            session.sender = sender
            session.role = role
            session.fromClient = true
            session.source = peer
            let before = session.sequence
            // The sender's own stamps are held to the clock as it was before any stamp of the push was
            // observed, as a whole apply holds them (a relayed stamp in an earlier run moves the clock).
            let start = session.clock
            var records = 0
            while true {
                switch try next() {
                case .chunk(let group):
                    let batch = ChangeBatch([group])
                    let plan = try BatchPlan(batch, schema: schema, sender: sender, scope: scope)
                    if let own = plan.newestOwn {
                        do throws(SyncError) {
                            try start.check(own.hlc, now: session.checkedAt ?? session.now)
                        } catch {
                            throw SyncError.drift(
                                error, .stampsAhead, stamp: own, bound: configuration.maxClockDriftMillis)
                        }
                    }
                    records += try merge(batch, plan: plan, session: session).records
                case .finish(let tail):
                    guard records == tail.records else {
                        throw SyncError(.storage, "A streamed push merged \(records) of \(tail.records) records.")
                    }
                    // A whole apply lists the schema's refusals before the merge's; run by run they interleave.
                    // Refusals are rare: the push is applied whole instead, with its answer.
                    guard session.refusals.isEmpty else {
                        throw SyncError(.storage, "A streamed push refused records; applied whole instead.")
                    }
                    if let lease = tail.lease { try Self.requireLease(session.db, lease) }
                    var report = ApplyReport(
                        records: records, conflicts: session.conflicts, cursor: FeedCursor(session.sequence))
                    report.refused = try session.markStaying()
                    try settle(
                        session, peer: peer, since: before, pruneEchoBelow: tail.pruneEchoBelow,
                        progress: PeerProgress())
                    return report
                case .abort:
                    throw SyncError(.storage, "A streamed push was aborted; rolled back.")
                }
            }
        }
    }
}

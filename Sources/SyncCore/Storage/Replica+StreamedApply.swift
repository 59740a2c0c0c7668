import Foundation
import Synchronization

/// A push merged while its body is still being decoded: the decoder hands each run of records on as it
/// reads it (`SyncRequest(decoding:pushChunks:)`), and a merge thread applies it in an open transaction,
/// on the other core. Nothing commits before ``finish(lease:pruneEchoBelow:records:)``, which the server
/// calls only once the whole request decoded and passed every check a push passes
/// (``SyncService/handle(_:principal:now:leaseChecked:streamed:)``); ``abort()`` rolls it all back.
///
/// A stream that fails (a bad record, a stored record out of scope, a stamp too far ahead, a duplicated
/// node) rolls back and `finish` answers nil: the caller then applies the decoded batch the usual way,
/// which gives the same outcome and the same error as a push that was never streamed.
///
/// The server's work between the first chunk and `finish` or `abort` must not write to the replica (the
/// stream holds its write transaction): the server streams only for a token already bound to the node.
public final class StreamedApply: @unchecked Sendable {
    // @unchecked: the queue and the result live behind the mutex; the semaphores are thread-safe.
    /// The node the request named before its push (its own stamps are held to the drift bound).
    public let sender: NodeID
    private let state = Mutex(State())
    private let available = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)

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
        /// The records of the decoded push, which the chunks must add up to.
        var records: Int
    }

    private struct State: ~Copyable {
        var queue: [Item] = []
        var ended = false
        var result: Result<ApplyReport, any Error>?
    }

    /// Starts the merge (on ``WorkerThread/merge``) of the records `sender` pushes to `replica` as `peer`, with
    /// the server's clock at `serverClock` and the principal's `scope` (see ``Replica/apply(_:from:sender:scope:pruneEchoBelow:serverClock:lease:progress:)``).
    public init(replica: Replica, peer: String, sender: NodeID, scope: String?, serverClock: Int64) {
        self.sender = sender
        WorkerThread.merge.run { [self] in
            let result = Result {
                try replica.applyStreamed(from: peer, sender: sender, scope: scope, serverClock: serverClock) {
                    try self.next()
                }
            }
            state.withLock { $0.result = result }
            done.signal()
        }
    }

    /// Hands on a run of records, decoded and resolved (see `WireBatch.decode(_:maxRecords:chunks:)`).
    public func offer(_ records: CollectionChanges) {
        guard enqueue(.chunk(records), ending: false) else { return }
    }

    /// Moves the lease, prunes the echo ranges and commits; the report, or nil when the stream failed (it
    /// rolled back: apply the batch the usual way). `records`: how many the decoded push carries.
    public func finish(lease: LeaseMove?, pruneEchoBelow: Int64?, records: Int) -> ApplyReport? {
        guard enqueue(.finish(Tail(lease: lease, pruneEchoBelow: pruneEchoBelow, records: records)), ending: true)
        else { return nil }
        done.wait()
        return state.withLock { try? $0.result?.get() }
    }

    /// Rolls everything back (a no-op once finished). Does not wait for the rollback.
    public func abort() {
        _ = enqueue(.abort, ending: true)
    }

    private func enqueue(_ item: Item, ending: Bool) -> Bool {
        let queued = state.withLock { state -> Bool in
            guard !state.ended else { return false }
            state.ended = ending
            state.queue.append(item)
            return true
        }
        if queued { available.signal() }
        return queued
    }

    /// The decoder's next step (blocks the merge thread until there is one).
    private func next() throws -> Item {
        guard available.wait(timeout: .now() + Self.stallSeconds) == .success else {
            throw SyncError(.storage, "A streamed push stalled; rolled back.")
        }
        return state.withLock { $0.queue.removeFirst() }
    }
}

extension Replica {
    /// The merge side of a ``StreamedApply``: one transaction, chunk by chunk, each checked as a batch of
    /// its own (the checks are per record), then the lease and the echo as in ``apply(_:from:sender:scope:pruneEchoBelow:serverClock:lease:progress:)``.
    fileprivate func applyStreamed(
        from peer: String, sender: NodeID, scope: String?, serverClock: Int64,
        next: () throws -> StreamedApply.Item
    ) throws -> ApplyReport {
        try withSession { session in
            session.checkedAt = UInt64(max(0, serverClock))
            session.scope = scope
            session.fromClient = true
            session.source = peer
            let before = session.sequence
            var records = 0
            while true {
                switch try next() {
                case .chunk(let group):
                    let batch = ChangeBatch([group])
                    let plan = try BatchPlan(batch, layouts: layouts, schema: schema, sender: sender, scope: scope)
                    records += try merge(batch, plan: plan, session: session).records
                case .finish(let tail):
                    guard records == tail.records else {
                        throw SyncError(.storage, "A streamed push merged \(records) of \(tail.records) records.")
                    }
                    if let lease = tail.lease { try Self.requireLease(session.db, lease) }
                    try settle(
                        session, peer: peer, since: before, pruneEchoBelow: tail.pruneEchoBelow,
                        progress: PeerProgress())
                    return ApplyReport(
                        records: records, conflicts: session.conflicts, cursor: FeedCursor(session.sequence),
                        refused: try session.markStaying())
                case .abort:
                    throw SyncError(.storage, "A streamed push was aborted; rolled back.")
                }
            }
        }
    }
}

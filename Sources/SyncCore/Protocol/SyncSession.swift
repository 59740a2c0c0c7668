public import Logging

/// What a sync did.
public struct SyncSummary: Sendable, Equatable {
    public var pushed = 0
    public var pulled = 0
    public var conflicts = 0
    public var roundTrips = 0
    public var bytesSent = 0
    public var bytesReceived = 0
    /// Pending stamps moved because this node's clock was wrong, and by how much (ms).
    public var repairedStamps = 0
    public var repairOffsetMillis: Int64 = 0
    /// This node's clock correction after the sync (ms added to its wall clock).
    public var clockOffsetMillis: Int64 = 0
    public var millis: UInt64 = 0

    public init() {}
}

/// The client side of the sync protocol: pushes this replica's changes to a server and pulls the server's,
/// one `POST /v1/sync` per step, until both sides are drained.
///
/// Every step is resumable: the push position and the pull cursor are saved in the transaction that
/// applies the pulled page, so a sync cut at any byte starts again from the last acknowledged step and
/// re-sends at most one batch. Changes pulled from the server are never pushed back to it (no echo).
public struct SyncSession: Sendable {
    public let replica: Replica
    public let transport: any SyncTransport
    /// The key under which this replica keeps its positions with the server (its URL, or "upstream").
    public let peer: String
    /// Records per pushed batch and per pulled page. Default 1,000.
    public var batchSize = 1000
    /// Reported to the server in the heartbeat.
    public var appVersion = "fieldsync/\(FieldSyncVersion.current)"
    /// A residual clock offset under this is network noise, not a wrong clock. Default 2 s.
    public var clockTolerance: Int64 = 2000
    public var logger: Logger

    public init(replica: Replica, transport: any SyncTransport, peer: String, logger: Logger) {
        self.replica = replica
        self.transport = transport
        self.peer = peer
        self.logger = logger
    }

    /// Syncs to the end. `progress` is called after each step with the running summary.
    ///
    /// Throws what the transport throws (after its own retries), a ``Problem`` the server returned, or a
    /// `SyncError` from this replica (a pulled batch it cannot apply). Positions already saved stay saved.
    @discardableResult
    public func run(progress: (SyncSummary) -> Void = { _ in }) throws -> SyncSummary {
        let clock = replica.configuration.clock
        let started = clock.nowMillis()
        var summary = SyncSummary()
        var state = try replica.peerState(peer)
        var heartbeat: Heartbeat? = try pendingHeartbeat(state)
        var repairs = 0
        do {
            while true {
                let echo = try replica.echoRanges(from: peer, after: state.pushed.base)
                let outgoing = try replica.changes(
                    since: state.pushed, limit: batchSize, filter: FeedFilter(excludingSequences: echo))
                let offset = try replica.clockOffsetMillis()
                let sentAt = Int64(clamping: Replica.corrected(clock.nowMillis(), by: offset))
                let push = outgoing.batch.isEmpty ? nil : SyncRequest.Push(batch: outgoing.batch, to: outgoing.cursor)
                let request = SyncRequest(
                    node: replica.nodeID, clockMillis: sentAt, push: push,
                    pull: .init(cursor: state.pulled, limit: batchSize), heartbeat: heartbeat)
                let exchange: SyncExchange
                do {
                    exchange = try transport.exchange(request)
                } catch let problem as Problem where problem.code == SyncError.Code.clockDrift.rawValue && repairs < 3 {
                    repairs += 1
                    try repairClock(problem, sentAt: sentAt, pushed: state.pushed, summary: &summary)
                    continue
                }
                let response = exchange.response
                let receivedAt = Int64(clamping: Replica.corrected(clock.nowMillis(), by: offset))
                try learnClock(server: response.clockMillis, sentAt: sentAt, receivedAt: receivedAt)
                summary.roundTrips += 1
                summary.bytesSent += exchange.bytesSent
                summary.bytesReceived += exchange.bytesReceived
                heartbeat = nil
                // Nothing to push (or only what came from the server): the position moves without a push.
                let pushedTo: FeedCursor? = push == nil ? outgoing.cursor : response.pushed?.to
                if let ack = response.pushed {
                    summary.pushed += ack.records
                }
                let page = response.pull
                let report = try replica.apply(
                    page?.batch ?? ChangeBatch(), from: peer,
                    progress: PeerProgress(pushed: pushedTo, pulled: page?.cursor))
                summary.pulled += page?.batch.recordCount ?? 0
                summary.conflicts += report.conflicts
                if let pushedTo { state.pushed = pushedTo }
                if let cursor = page?.cursor { state.pulled = cursor }
                progress(summary)
                let pushDrained = push == nil ? !outgoing.hasMore : (response.pushed != nil && !outgoing.hasMore)
                if pushDrained, !(page?.more ?? false) { break }
            }
        } catch {
            try? replica.recordSyncEnd(peer: peer, error: "\(error)")
            throw error
        }
        try replica.recordSyncEnd(peer: peer, error: nil)
        summary.clockOffsetMillis = try replica.clockOffsetMillis()
        summary.millis = clock.nowMillis() &- started
        return summary
    }

    /// The server's clock tells ours how wrong it is: correct the wall clock for new stamps.
    private func learnClock(server: Int64, sentAt: Int64, receivedAt: Int64) throws {
        let midpoint = sentAt / 2 + receivedAt / 2
        let residual = server.subtractingReportingOverflow(midpoint)
        guard !residual.overflow, abs(residual.partialValue) > max(clockTolerance, (receivedAt - sentAt) / 2) else {
            return
        }
        let offset = try replica.clockOffsetMillis()
        try replica.setClockOffset(offset.addingReportingOverflow(residual.partialValue).partialValue)
        logger.notice(
            "clock corrected", metadata: ["sync.clock.offset_ms": "\(offset + residual.partialValue)"])
    }

    /// The server refused our stamps: correct the clock, move the pending stamps, and try again.
    private func repairClock(_ problem: Problem, sentAt: Int64, pushed: FeedCursor, summary: inout SyncSummary) throws {
        if let server = problem.serverClockMillis {
            try learnClock(server: server, sentAt: sentAt, receivedAt: sentAt)
        }
        guard let offset = problem.offsetMillis, offset != .min, offset != .max else { throw problem }
        let moved = try replica.repairPendingStamps(since: pushed, offsetMillis: offset)
        summary.repairedStamps += moved
        summary.repairOffsetMillis = summary.repairOffsetMillis &+ offset
        logger.notice(
            "pending stamps repaired",
            metadata: ["sync.clock.repair_ms": "\(offset)", "sync.clock.repaired": "\(moved)"])
        if moved == 0, problem.serverClockMillis == nil { throw problem }
    }

    private func pendingHeartbeat(_ state: PeerState) throws -> Heartbeat {
        let pending = try replica.pendingSummary(since: state.pushed.position)
        let now = Int64(clamping: replica.configuration.clock.nowMillis())
        return Heartbeat(
            app: appVersion, backlog: pending.count,
            oldestPendingMillis: pending.oldestMillis.map { max(0, now - $0) }, lastError: state.lastError)
    }
}

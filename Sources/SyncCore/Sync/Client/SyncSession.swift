import Dispatch
public import Logging

/// The client side of the sync protocol: pushes this replica's changes to a server and pulls the server's,
/// one `POST /v1/sync` per step, until both sides are drained.
///
/// Every step is resumable: the push position and the pull cursor are saved in the transaction that
/// applies the pulled page, so a sync cut at any byte starts again from the last acknowledged step and
/// re-sends at most one batch. Changes pulled from the server are never pushed back to it (no echo).
///
/// The decisions are ``StateMachine``'s (pure); this type performs them: SQLite, the transport, threads.
public struct SyncSession: Sendable {
    public let replica: Replica
    public let transport: any SyncTransport
    /// The key under which this replica keeps its positions with the server (its URL, or "upstream").
    public let peer: String
    /// Records per pushed batch and per pulled page. Default 1,000.
    public var batchSize = 1000
    /// Reported to the server in the heartbeat.
    public var appVersion = "fieldsync/\(FieldSyncVersion.current)"
    /// Statuses of this node's own clients to relay upstream with the first request (a hub's). Default none.
    public var relayed: [DeviceStatus] = []
    /// Conflicts this node saw, relayed upstream with the first request (a hub's). Default none.
    public var conflicts: [HistoryEntry] = []
    /// A residual clock offset under this is network noise, not a wrong clock. Default 2 s.
    public var clockTolerance: Int64 = 2000
    /// Draws push leases (see ``SyncRequest/Lease``). Default the system generator.
    public var makeLease: @Sendable () -> UInt64 = { UInt64.random(in: 1...UInt64.max) }
    /// Draws the new node id when a server finds this one duplicated. Default random.
    public var makeNodeID: @Sendable () -> NodeID = { NodeID.random() }
    public var logger: Logger

    public init(replica: Replica, transport: any SyncTransport, peer: String, logger: Logger) {
        self.replica = replica
        self.transport = transport
        self.peer = peer
        self.logger = logger
    }

    /// Syncs to the end. `progress` is called after each step with the running summary.
    ///
    /// Pipelined: as soon as an answer arrives, the next request goes out (its push page read while the
    /// previous request was in flight), and the answer's pulled page is applied while the server works on
    /// the next one (`progress` comes once it is applied). On a transport that takes two requests at once, a
    /// push page goes out before the answer to the one before it (a window of two, decision record 0007):
    /// the server decodes one while it merges the other. Throws what the transport throws (after its own
    /// retries), a ``Problem`` the server returned, or a `SyncError` from this replica. Positions already
    /// saved stay saved.
    ///
    /// Every request moves this node's lease with the server (``SyncRequest/Lease``), saved before it
    /// leaves. A `clock-drift` answer repairs the pending stamps as its cause says (up to three times; at
    /// once not at all for a relayed stamp, which is another node's); a `duplicate-node` or `node-taken`
    /// answer makes this replica take a new node id once (``Replica/takeNewNodeID(_:)``) and go on.
    @discardableResult
    public func run(progress: (SyncSummary) -> Void = { _ in }) throws -> SyncSummary {
        let started = replica.configuration.clock.nowMillis()
        var summary: SyncSummary
        do {
            summary = try Driver(self).run(progress: progress)
        } catch {
            try? replica.recordSyncEnd(peer: peer, error: "\(error)")
            throw error
        }
        try replica.recordSyncEnd(peer: peer, error: nil)
        summary.millis = replica.configuration.clock.nowMillis() &- started
        return summary
    }

    /// Performs a sync's ``StateMachine/Action``s and tells the machine what came of them.
    ///
    /// Where the work runs, each place for an overlap measured to pay (docs/benchmarks.md, "Issue 18"):
    /// - the caller's thread runs the machine, saves leases, applies answers (a pulled page is applied while
    ///   the next request is out) and reads a page that was not read ahead;
    /// - `fieldsync.session.request.0` and `.1`, where the transport blocks: a request is out while an answer
    ///   is applied, and two are out at once in the push window (decision record 0007);
    /// - `fieldsync.session.read-ahead` (``ReadAhead``): the next push page is read, encoded and compressed
    ///   while a request is in flight.
    final class Driver {
        private let session: SyncSession
        private var replica: Replica { session.replica }
        private let events = Mailbox<StateMachine.Event>()
        /// Every job running on a queue (the sync waits for them all before it returns).
        private let jobs = DispatchGroup()
        private let requestQueues = (0..<2).map { DispatchQueue(label: "fieldsync.session.request.\($0)") }
        private let readAhead = ReadAhead()
        /// The page the machine asked for last: the next request it sends pushes it.
        private var read: PreparedRequest?
        /// The requests sent last, by id (one may be sent again).
        private var sent: [Int: Outgoing] = [:]

        init(_ session: SyncSession) {
            self.session = session
        }

        func run(progress: (SyncSummary) -> Void) throws -> SyncSummary {
            // Nothing left running behind the sync, whatever ends it.
            defer {
                readAhead.discard()
                jobs.wait()
            }
            var machine = StateMachine(
                configuration: .init(
                    clockTolerance: session.clockTolerance,
                    allowsConcurrentExchanges: session.transport.allowsConcurrentExchanges,
                    makeLease: session.makeLease),
                clockOffset: try replica.clockOffsetMillis())
            var actions = machine.start()
            while true {
                guard !actions.isEmpty else {
                    actions = machine.handle(events.take())
                    continue
                }
                switch actions.removeFirst() {
                case .finish(let summary): return summary
                case .fail(let error): throw error
                case .progress(let summary): progress(summary)
                case let action:
                    // What is done on this thread is told at once, and acted on before the rest.
                    guard let event = try perform(action, clockOffset: machine.clockOffset) else { continue }
                    actions.insert(contentsOf: machine.handle(event), at: 0)
                }
            }
        }

        /// Performs an action; returns its outcome when it was done on this thread, nil when it comes later
        /// (``events``) or not at all.
        private func perform(_ action: StateMachine.Action, clockOffset: Int64) throws -> StateMachine.Event? {
            switch action {
            case .load(let heartbeat):
                // A start again (after a repair or a new node id) reads its pages again.
                readAhead.discard()
                let state = try replica.peerState(session.peer)
                return .loaded(
                    .init(
                        pushed: state.pushed, pulled: state.pulled,
                        leases: .init(current: state.lease, pending: state.leaseNext, then: state.leaseThen),
                        rekeyedFrom: try replica.previousNodeID(),
                        heartbeat: heartbeat ? try pendingHeartbeat(state, clockOffset: clockOffset) : nil))
            case .read(let cursor):
                let coding = session.transport.requestCoding
                let prepared = try readAhead.take(after: cursor, coding: coding) ?? session.prepare(after: cursor)
                read = prepared
                return .read(prepared.page)
            case .send(let request):
                try send(request)
            case .sendAgain(let id):
                guard let outgoing = sent[id] else { throw Self.bug("no request \(id) to send again") }
                session.logger.debug("request sent again: it reached the server before the one it follows")
                exchange(outgoing, id: id)
            case .apply(let apply):
                return .applied(
                    Result {
                        try replica.apply(
                            apply.batch, from: session.peer, sender: apply.sender, progress: apply.progress
                        ).conflicts
                    })
            case .saveClockOffset(let offset):
                try replica.setClockOffset(offset)
                session.logger.notice("clock corrected", metadata: ["sync.clock.offset_ms": "\(offset)"])
            case .repairStamps(let offset):
                let pushed = try replica.peerState(session.peer).pushed
                let moved = try replica.repairPendingStamps(since: pushed, offsetMillis: offset)
                session.logger.notice(
                    "pending stamps repaired",
                    metadata: ["sync.clock.repair_ms": "\(offset)", "sync.clock.repaired": "\(moved)"])
                return .repaired(stamps: moved)
            case .takeNewNodeID:
                let node = session.makeNodeID()
                return .tookNewNodeID(node, restamped: try replica.takeNewNodeID(node))
            case .progress, .finish, .fail:
                break
            }
            return nil
        }

        /// Saves the request's leases, finishes its body (the clock now) and sends it on a request queue; the
        /// page after it is read ahead meanwhile.
        private func send(_ request: StateMachine.Request) throws {
            if let leases = request.saveFirst {
                try replica.saveLease(
                    peer: session.peer, current: leases.current, next: leases.pending, then: leases.then)
            }
            let prepared: PreparedRequest
            if let page = request.page {
                guard let read, read.page == page else {
                    throw Self.bug("the page to send (after \(page.start)) is not the page read")
                }
                prepared = read
            } else {
                prepared = PreparedRequest(empty: replica.nodeID, coding: session.transport.requestCoding)
            }
            read = nil
            let now = Int64(
                clamping: Replica.corrected(replica.configuration.clock.nowMillis(), by: request.clockOffset))
            let outgoing = prepared.finish(
                clock: now, offset: request.clockOffset, lease: request.lease, rekeyedFrom: request.rekeyedFrom,
                pull: request.pull.map { .init(cursor: $0, limit: session.batchSize) }, heartbeat: request.heartbeat,
                relayed: request.heartbeat == nil ? [] : session.relayed,
                conflicts: request.heartbeat == nil ? [] : session.conflicts)
            sent[request.id] = outgoing
            sent[request.id - 2] = nil
            exchange(outgoing, id: request.id)
            if let page = request.page, page.hasMore {
                let session = self.session
                readAhead.start(after: page.end, jobs: jobs) { try session.prepare(after: page.end) }
            }
        }

        /// Sends a request on its queue (two in flight never share one: their ids follow each other); its
        /// outcome comes as an event.
        private func exchange(_ outgoing: Outgoing, id: Int) {
            let (transport, events, clock) = (session.transport, events, replica.configuration.clock)
            requestQueues[id % 2].async(group: jobs) {
                do {
                    let exchange = try transport.exchange(outgoing.body)
                    let receivedAt = Int64(clamping: Replica.corrected(clock.nowMillis(), by: outgoing.offset))
                    events.post(
                        .answered(id, exchange, sentAt: outgoing.request.clockMillis, receivedAt: receivedAt))
                } catch {
                    events.post(.failed(id, error, deviceClock: clock.nowMillis()))
                }
            }
        }

        /// The machine asked for what the driver cannot do: a bug here, not a fault of the replica or the server.
        private static func bug(_ what: String) -> SyncError {
            SyncError(.invalidBatch, "The sync session went wrong (\(what)). Nothing was lost: sync again.")
        }

        private func pendingHeartbeat(_ state: PeerState, clockOffset: Int64) throws -> Heartbeat {
            let pending = try replica.pendingSummary(since: state.pushed, to: session.peer)
            // Stamps are taken on the corrected clock: ages too, or a corrected device's backlog looks a year old.
            let now = Int64(clamping: Replica.corrected(replica.configuration.clock.nowMillis(), by: clockOffset))
            return Heartbeat(
                app: session.appVersion, backlog: pending.count,
                oldestPendingMillis: pending.oldestMillis.map { max(0, now - $0) }, lastError: state.lastError,
                clockCorrectionMillis: clockOffset)
        }
    }

    /// Reads the page of this node's changes after `cursor` (leaving out what came from the server) and
    /// prepares its request.
    func prepare(after cursor: FeedCursor) throws -> PreparedRequest {
        let page = try replica.changes(since: cursor, limit: batchSize, filter: FeedFilter(excludingEchoOf: peer))
        return PreparedRequest(after: cursor, page: page, node: replica.nodeID, coding: transport.requestCoding)
    }
}

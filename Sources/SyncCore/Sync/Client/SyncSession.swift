import Dispatch
public import Logging

/// What a sync did.
public struct SyncSummary: Sendable, Equatable {
    public var pushed = 0
    public var pulled = 0
    public var conflicts = 0
    /// Records of this node the server refused (set aside: see `Replica.refusedRecords`).
    public var refused = 0
    public var roundTrips = 0
    public var bytesSent = 0
    public var bytesReceived = 0
    /// Pending stamps moved because this node's clock was wrong, and by how much (ms).
    public var repairedStamps = 0
    public var repairOffsetMillis: Int64 = 0
    /// This node's clock correction after the sync (ms added to its wall clock).
    public var clockOffsetMillis: Int64 = 0
    /// The node id this node took because a server found its id duplicated, if it did.
    public var newNodeID: NodeID?
    public var restampedForNewNode = 0
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
    /// This replica's clock correction, read once per sync (every request is stamped with it) and kept
    /// up to date when the session changes it.
    private let offsetMemo = OffsetMemo()

    private final class OffsetMemo: @unchecked Sendable {
        // @unchecked: used by the thread running the session only.
        var value: Int64?
    }

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
    /// the next one (`progress` comes once it is applied; for an answer without records, with the next
    /// answer). On a transport that takes two requests at once, a push page goes out before the answer
    /// to the one before it (a window of two, decision record 0007): the server decodes one while it
    /// merges the other. Throws what the transport throws (after its own retries), a ``Problem`` the
    /// server returned, or a `SyncError` from this replica. Positions already saved stay saved.
    ///
    /// Every request moves this node's lease with the server (``SyncRequest/Lease``), saved before it
    /// leaves. A `clock-drift` answer repairs the pending stamps as its cause says (up to three times; at
    /// once not at all for a relayed stamp, which is another node's); a `duplicate-node`
    /// or `node-taken` answer makes this replica take a new node id once (``Replica/takeNewNodeID(_:)``) and go on.
    @discardableResult
    public func run(progress: (SyncSummary) -> Void = { _ in }) throws -> SyncSummary {
        let clock = replica.configuration.clock
        let started = clock.nowMillis()
        var summary = SyncSummary()
        var repairs = 0
        var rekeyed = false
        offsetMemo.value = nil  // another process may have corrected the clock since the last sync
        do {
            var heartbeat: Heartbeat? = try pendingHeartbeat(try replica.peerState(peer))
            while true {
                do {
                    try pipeline(heartbeat: heartbeat, summary: &summary, progress: progress)
                    break
                } catch let problem as Problem where problem.code == .clockDrift && repairs < 3 {
                    repairs += 1
                    try repairClock(problem, pushed: try replica.peerState(peer).pushed, summary: &summary)
                    // The refused request recorded nothing: send the heartbeat again, with the new correction.
                    heartbeat = try pendingHeartbeat(try replica.peerState(peer))
                } catch let problem as Problem where Self.takesNewID(problem) && !rekeyed {
                    // Another copy of this node (a restored backup) syncs with the server, or this node's id
                    // is another device's there (a replica enrolled again with a new token): take a new id.
                    rekeyed = true
                    let node = makeNodeID()
                    summary.restampedForNewNode = try replica.takeNewNodeID(node)
                    summary.newNodeID = node
                }
            }
        } catch {
            try? replica.recordSyncEnd(peer: peer, error: "\(error)")
            throw error
        }
        try replica.recordSyncEnd(peer: peer, error: nil)
        summary.clockOffsetMillis = try clockOffset()
        summary.millis = clock.nowMillis() &- started
        return summary
    }

    /// Whether a refusal means this replica must take a new node id and go on.
    static func takesNewID(_ problem: Problem) -> Bool {
        problem.code == .duplicateNode || problem.code == .nodeTaken
    }

    /// A request whose push part is read, encoded and compressed ahead (while the previous request is in
    /// flight); its clock and pull cursor are added when it is sent.
    private final class PreparedRequest {
        let start: FeedCursor
        /// The page pushed, without its records (they are in `stream`).
        let outgoing: FeedPage
        /// The request without its clock, pull and lease, and without the records of its push.
        let head: SyncRequest
        /// In the coding the server takes (zstd once it said so, else gzip at level 1: a request carries
        /// this device's own changes, compressed on a cheap phone's CPU).
        let stream: BodyStream
        /// Records it pushes.
        let records: Int

        init(start: FeedCursor, outgoing page: FeedPage, node: NodeID, coding: ContentCoding) {
            self.start = start
            records = page.batch.recordCount
            stream = coding.stream(level: coding == .gzip ? 1 : nil)
            var head = SyncRequest(
                node: node, clockMillis: 0, push: page.batch.isEmpty ? nil : .init(batch: page.batch, to: page.cursor))
            stream.write(head.encodedHead())
            // Encoded: the records are freed on the thread that prepares, not on the way of a request.
            head.push?.batch = ChangeBatch()
            self.head = head
            outgoing = FeedPage(batch: ChangeBatch(), cursor: page.cursor, hasMore: page.hasMore)
        }

        func finish(
            clock: Int64, lease: SyncRequest.Lease, rekeyedFrom: NodeID?, pull: SyncRequest.Pull?,
            heartbeat: Heartbeat?, relayed: [DeviceStatus], conflicts: [HistoryEntry]
        ) -> (SyncRequest, SyncRequestBody) {
            var request = head
            request.clockMillis = clock
            request.lease = lease
            request.rekeyedFrom = rekeyedFrom
            request.pull = pull
            request.heartbeat = heartbeat
            request.relayed = relayed
            request.conflicts = conflicts
            return (request, SyncRequestBody(bytes: stream.finish(request.encodedTail()), coding: stream.coding))
        }
    }

    /// A request ready to leave: its lease saved, its body finished.
    private struct Outgoing: Sendable {
        let request: SyncRequest
        let page: FeedPage
        let body: SyncRequestBody
        /// The clock correction its stamp was taken with (the answer's time is taken with it too).
        let offset: Int64
        /// Records it pushes.
        let records: Int
    }

    /// A request and its answer, with the times (corrected clock) it left and came back.
    private struct Answered: Sendable {
        let request: SyncRequest
        let page: FeedPage
        let exchange: SyncExchange
        let sentAt: Int64
        let receivedAt: Int64
    }

    /// Work running elsewhere while the session goes on: a push read ahead, an answer being applied, or a
    /// request out.
    private final class Pending<T>: @unchecked Sendable {
        // @unchecked: `result` is written before `done` is signalled and read after waiting. A prepared
        // request is then read by the next read-ahead (its immutable page) and finished by the session's
        // thread alone (its stream).
        private var result: Result<T, any Error>?
        private let done = DispatchSemaphore(value: 0)

        /// `run` starts a job on another thread (a queue's `async`, a worker thread's `run`).
        init(
            runningOn run: (@escaping @Sendable () -> Void) -> Void, _ work: @escaping @Sendable () throws -> T
        ) {
            run { [self] in
                result = Result(catching: work)
                done.signal()
            }
        }

        convenience init(on queue: DispatchQueue, _ work: @escaping @Sendable () throws -> T) {
            self.init(runningOn: { job in queue.async(execute: job) }, work)
        }

        func wait() throws -> T {
            done.wait()
            done.signal()  // a second wait returns at once
            return try result!.get()
        }

        /// The error the work has ended with already, if it has (without waiting).
        var error: (any Error)? {
            guard done.wait(timeout: .now()) == .success else { return nil }
            done.signal()
            if case .failure(let error) = result { return error }
            return nil
        }
    }

    /// A request of an earlier sync went out and got no answer: its lease move is settled alone, with
    /// nothing pushed or pulled, before this sync moves the lease again.
    ///
    /// A copy of this node restored from a backup taken meanwhile holds the same pending move, and the
    /// server cannot tell the copies apart on it (it takes it for a retry): if that request pushed, both
    /// copies would have writes acknowledged under one node id, possibly one stamp for two values. Each
    /// copy's next move is its own random one, and the second copy is caught there before it pushes.
    ///
    /// Two moves may be pending (a request sent behind another): they are settled in their order.
    private func settleLease(_ leases: inout Leases, pushed: FeedCursor, summary: inout SyncSummary) throws {
        while leases.pending != nil {
            let empty = FeedPage(batch: ChangeBatch(), cursor: pushed, hasMore: false)
            let probe = PreparedRequest(
                start: pushed, outgoing: empty, node: replica.nodeID, coding: transport.requestCoding)
            let answered = try exchange(try start(probe, pull: nil, heartbeat: nil, leases: &leases))
            try received(answered, summary: &summary)
            let settled = answered.request.lease?.next
            try replica.apply(ChangeBatch(), from: peer, progress: PeerProgress(lease: settled))
            leases.acknowledge(settled)
        }
    }

    /// A request prepared on the read-ahead thread (``WorkerThread/readAhead``, at a lower priority), or
    /// nil when the push it would carry follows the last page.
    private typealias Ahead = Pending<PreparedRequest?>

    private static func readAhead(_ prepare: @escaping @Sendable () throws -> PreparedRequest?) -> Ahead {
        Ahead(runningOn: { job in WorkerThread.readAhead.run(job) }, prepare)
    }

    /// Pushes read ahead, two deep: the read-ahead thread yields to the server's merge on a busy machine,
    /// and a read late for one request has the time of the next to catch up instead of holding it back.
    private struct ReadAheads {
        private var queue: [Ahead] = []

        /// Reads ahead up to two pushes after the one just sent (the second after the first's page).
        mutating func keepFilled(after sent: FeedPage, session: SyncSession) {
            guard sent.hasMore else { return }
            if queue.isEmpty {
                let cursor = sent.cursor
                queue.append(SyncSession.readAhead { try session.prepare(after: cursor) })
            }
            while queue.count < 2, let last = queue.last {
                queue.append(
                    SyncSession.readAhead {
                        guard let previous = try last.wait(), previous.outgoing.hasMore else { return nil }
                        return try session.prepare(after: previous.outgoing.cursor)
                    })
            }
        }

        /// The push read ahead to follow `pushed`, if the first one does (the server acknowledged the push
        /// it follows), its read succeeded and it is compressed in `coding` (the first answer of a sync
        /// tells whether the server takes zstd); else nothing, and nothing read ahead is kept.
        mutating func take(following pushed: FeedCursor, coding: ContentCoding) -> PreparedRequest? {
            guard !queue.isEmpty else { return nil }
            let first = queue.removeFirst()
            if let prepared = try? first.wait(), prepared.start == pushed, prepared.stream.coding == coding {
                return prepared
            }
            drain()
            return nil
        }

        /// Waits for every read still running.
        mutating func drain() {
            for ahead in queue { _ = try? ahead.wait() }
            queue.removeAll()
        }
    }

    private func prepare(after cursor: FeedCursor) throws -> PreparedRequest {
        let page = try replica.changes(since: cursor, limit: batchSize, filter: FeedFilter(excludingEchoOf: peer))
        return PreparedRequest(start: cursor, outgoing: page, node: replica.nodeID, coding: transport.requestCoding)
    }

    /// The lease this node holds with the server, the one its unacknowledged request moves to, and the
    /// one the request sent behind that one moves to.
    private struct Leases {
        var current: UInt64?
        var pending: UInt64?
        var then: UInt64?
        let rekeyedFrom: NodeID?

        /// The server accepted the move to `lease` (the oldest pending one): it is ours now.
        mutating func acknowledge(_ lease: UInt64?) {
            guard let lease else { return }
            current = lease
            pending = then
            then = nil
        }
    }

    /// Takes the request's clock, saves the lease move it makes, and finishes its body.
    ///
    /// `behind`: the request goes out while the one before it is unanswered; it moves on from that one's
    /// move, and says which lease that one moved from (``SyncRequest/Lease/after``).
    private func start(
        _ prepared: PreparedRequest, pull: FeedCursor?, heartbeat: Heartbeat?, leases: inout Leases,
        behind: Bool = false
    ) throws -> Outgoing {
        let offset = try clockOffset()
        let now = Int64(clamping: Replica.corrected(replica.configuration.clock.nowMillis(), by: offset))
        let lease: SyncRequest.Lease
        if behind {
            leases.then = makeLease()
            try replica.saveLease(peer: peer, current: leases.current, next: leases.pending, then: leases.then)
            lease = .init(previous: leases.pending, next: leases.then, after: leases.current)
        } else {
            if leases.pending == nil {
                // Every request moves the lease (a copy of this node is caught at its first request). Saved
                // before it leaves: a retry after a crash sends the same pair, which the server knows.
                leases.pending = makeLease()
                try replica.saveLease(peer: peer, current: leases.current, next: leases.pending)
            }
            lease = .init(previous: leases.current, next: leases.pending)
        }
        let (request, body) = prepared.finish(
            clock: now, lease: lease, rekeyedFrom: leases.rekeyedFrom,
            pull: pull.map { .init(cursor: $0, limit: batchSize) }, heartbeat: heartbeat,
            relayed: heartbeat == nil ? [] : relayed, conflicts: heartbeat == nil ? [] : conflicts)
        return Outgoing(
            request: request, page: prepared.outgoing, body: body, offset: offset, records: prepared.records)
    }

    /// Sends a request and waits for its answer, on this thread (no hop to another one and back on the
    /// way of every request: the work done meanwhile runs on the read-ahead thread and the apply queue).
    private func exchange(_ outgoing: Outgoing) throws -> Answered {
        let exchange = try transport.exchange(outgoing.body)
        let receivedAt = Int64(
            clamping: Replica.corrected(replica.configuration.clock.nowMillis(), by: outgoing.offset))
        return Answered(
            request: outgoing.request, page: outgoing.page, exchange: exchange,
            sentAt: outgoing.request.clockMillis, receivedAt: receivedAt)
    }

    private func pipeline(heartbeat: Heartbeat?, summary: inout SyncSummary, progress: (SyncSummary) -> Void) throws {
        let state = try replica.peerState(peer)
        var pushed = state.pushed
        var leases = Leases(
            current: state.lease, pending: state.leaseNext, then: state.leaseThen,
            rekeyedFrom: try replica.previousNodeID())
        if leases.pending != nil { try settleLease(&leases, pushed: pushed, summary: &summary) }
        // A request pulls only once it carries the last page of the push: the server then reads no empty
        // pull page for every page pushed before it, and a sync that pushes and pulls takes no more trips.
        var pulled = state.pulled
        let first = try prepare(after: pushed)
        var outgoing = try start(
            first, pull: first.outgoing.hasMore ? nil : pulled, heartbeat: Self.heartbeat(heartbeat, sentWith: first),
            leases: &leases)
        var aheads = ReadAheads()
        aheads.keepFilled(after: outgoing.page, session: self)
        let applyQueue = DispatchQueue(label: "fieldsync.session.apply")
        // The progress of an answer without records, saved on the apply queue while the next request is out.
        var applying: Pending<ApplyReport>?
        // A push sent while the one before it is unanswered (a window of two), on a request thread.
        var behind: Behind?
        let requests = RequestThreads()
        // No request, read or apply left running behind an error (an apply's own error comes up at the
        // next answer).
        defer {
            _ = try? behind?.answer.wait()
            requests.stop()
            _ = try? applying?.wait()
            aheads.drain()
        }
        var answered = try exchange(outgoing)
        while true {
            if let previous = applying {
                applying = nil
                summary.conflicts += try previous.wait().conflicts
                progress(summary)
            }
            let response = answered.exchange.response
            let sent = answered.request
            try received(answered, summary: &summary)
            summary.pushed += response.pushed?.records ?? 0
            // Nothing pushed (or only what came from the server): the position moves without an ack.
            let pushedTo: FeedCursor? = sent.push == nil ? answered.page.cursor : response.pushed?.to
            let page = response.pull
            let pushDrained = !answered.page.hasMore && (sent.push == nil || response.pushed != nil)
            let done = pushDrained && !(page?.more ?? false)
            if let pushedTo { pushed = pushedTo }
            if let page { pulled = page.cursor }
            // The server accepted the request: the lease it moved to is ours now.
            let acknowledgedLease = sent.lease?.next
            leases.acknowledge(acknowledgedLease)
            let batch = page?.batch ?? ChangeBatch()
            let (replica, peer, sender) = (self.replica, self.peer, response.node)
            // This node's records its server refused now, and those its server's own server refused (they
            // come back as departures with their reason): all set aside when the answer is saved.
            let refused = (response.pushed?.refused ?? []) + (page?.refused ?? [])
            summary.refused += refused.count
            let saved = PeerProgress(
                pushed: pushedTo, pulled: page?.cursor, lease: acknowledgedLease, refused: refused,
                left: page?.left ?? [])
            let apply = { @Sendable in try replica.apply(batch, from: peer, sender: sender, progress: saved) }
            guard !done else {
                let report = try apply()
                summary.pulled += batch.recordCount
                summary.conflicts += report.conflicts
                progress(summary)
                return
            }
            // The next request goes out before this page is applied: the server works while we apply. The
            // page read ahead, if the server acknowledged the push it follows (a failed read is read again
            // here, and its error thrown). Its lease is saved before the apply starts (both write).
            if batch.recordCount > 0 {
                // (A request that pulls has none sent behind it.)
                outgoing = try startNext(after: pushed, aheads: &aheads, pulled: pulled, leases: &leases)
                // Whichever of the two waits longer stays on this thread, with no hop to another one and back
                // on its way: the pulled page's apply (the server answers the next pull from a page it read
                // ahead), while the request waits on another thread.
                let session = self
                let request = Pending(on: .global()) { [outgoing] in try session.exchange(outgoing) }
                aheads.keepFilled(after: outgoing.page, session: self)
                do {
                    let report = try apply()
                    summary.pulled += batch.recordCount
                    summary.conflicts += report.conflicts
                } catch {
                    _ = try? request.wait()  // let the request end before the error goes up
                    throw error
                }
                progress(summary)
                answered = try request.wait()
                continue
            }
            // An answer without records: its progress is saved on the apply queue while the next request is
            // out (sent behind this one, or sent now), and the one after it goes out behind it.
            var awaited: Pending<Answered>?
            if let next = behind {
                (outgoing, awaited) = (next.outgoing, next.answer)
                behind = nil
            } else {
                outgoing = try startNext(after: pushed, aheads: &aheads, pulled: pulled, leases: &leases)
            }
            // (Not behind a request refused as out of order already: it is sent again, and a request sent
            // behind it now would overtake it as well.)
            if mayGoBehind(outgoing, leases: leases),
                (awaited?.error as? Problem)?.code != .outOfOrder
            {
                // The request goes out first, then the one behind it, each on a request thread.
                if awaited == nil { awaited = send(outgoing, on: requests) }
                let next = try startNext(
                    after: outgoing.page.cursor, aheads: &aheads, pulled: pulled, leases: &leases, behind: true)
                behind = Behind(outgoing: next, answer: send(next, on: requests))
            }
            applying = Pending(on: applyQueue, apply)
            // And the pushes after them are read and compressed while the server works.
            aheads.keepFilled(after: behind?.outgoing.page ?? outgoing.page, session: self)
            do {
                answered = try answer(outgoing, awaited: awaited)
            } catch {
                if let next = behind, let accepted = try? next.answer.wait() {
                    // The request behind it was accepted: so was this one, whose answer was lost (the lease
                    // moved on from its move). Its progress is saved, and the sync goes on from that answer.
                    behind = nil
                    if let pending = applying {
                        applying = nil
                        summary.conflicts += try pending.wait().conflicts
                        progress(summary)
                    }
                    let lease = outgoing.request.lease?.next
                    leases.acknowledge(lease)
                    summary.pushed += outgoing.records
                    pushed = outgoing.page.cursor
                    let lost = PeerProgress(pushed: pushed, lease: lease)
                    applying = Pending(on: applyQueue) { try replica.apply(ChangeBatch(), from: peer, progress: lost) }
                    answered = accepted
                    continue
                }
                // The apply's error first: a clock repair or a new node id must start from saved positions.
                if let pending = applying {
                    applying = nil
                    _ = try pending.wait()
                }
                throw error
            }
        }
    }

    /// Starts the request that pushes the page after `cursor`: the one read ahead if it follows `cursor`
    /// (a failed read is read again here, and its error thrown), else read now. Only the last page of the
    /// push pulls (from `pulled`).
    private func startNext(
        after cursor: FeedCursor, aheads: inout ReadAheads, pulled: FeedCursor, leases: inout Leases,
        behind: Bool = false
    ) throws -> Outgoing {
        let prepared = try aheads.take(following: cursor, coding: transport.requestCoding) ?? prepare(after: cursor)
        return try start(
            prepared, pull: prepared.outgoing.hasMore ? nil : pulled, heartbeat: nil, leases: &leases, behind: behind)
    }

    /// A push sent while the one before it is unanswered, and its answer to come.
    private struct Behind {
        let outgoing: Outgoing
        let answer: Pending<Answered>
    }

    /// The threads a sync's requests sent behind others wait for their answers on (two, in turn: a
    /// request goes out while the one before it is still waiting), made when first needed.
    private final class RequestThreads {
        private var threads: [WorkerThread] = []
        /// The thread given last.
        private var turn = 1

        func next() -> WorkerThread {
            turn = 1 - turn
            if threads.count == turn { threads.append(WorkerThread(name: "fieldsync-request", nice: 0)) }
            return threads[turn]
        }

        func stop() {
            for thread in threads { thread.stop() }
        }
    }

    /// Whether the push after `outgoing` may go out while `outgoing` is unanswered (a window of two):
    /// when the transport takes two requests at once, behind a push that has more after it and pulls
    /// nothing, once this node holds a lease with the server (the first answer of a sync came).
    ///
    /// Its lease moves on from `outgoing`'s, and names the lease `outgoing` moved from (``SyncRequest/
    /// Lease/after``): a server that has not applied `outgoing` yet refuses it with `out-of-order`, and it
    /// is sent again after `outgoing`'s answer. Both moves are saved before it leaves.
    private func mayGoBehind(_ outgoing: Outgoing, leases: Leases) -> Bool {
        transport.allowsConcurrentExchanges && outgoing.request.pull == nil && outgoing.page.hasMore
            && leases.current != nil && leases.pending != nil && leases.then == nil
            && outgoing.request.lease?.next == leases.pending
    }

    /// Sends a request on one of the sync's request threads; its answer comes in the result.
    private func send(_ outgoing: Outgoing, on requests: RequestThreads) -> Pending<Answered> {
        let session = self
        let thread = requests.next()
        return Pending(runningOn: { job in thread.run(job) }) { try session.exchange(outgoing) }
    }

    /// The answer to `outgoing`: awaited where it went out (`awaited`, on a request thread), or sent and
    /// awaited on this thread. A request sent behind another that reached the server first (refused with
    /// `out-of-order`; that one is answered now) is sent once more.
    private func answer(_ outgoing: Outgoing, awaited: Pending<Answered>?) throws -> Answered {
        guard let awaited else { return try exchange(outgoing) }
        do {
            return try awaited.wait()
        } catch let problem as Problem where problem.code == .outOfOrder {
            logger.debug("request sent again: it reached the server before the one it follows")
            return try exchange(outgoing)
        }
    }

    private func clockOffset() throws -> Int64 {
        if let value = offsetMemo.value { return value }
        let value = try replica.clockOffsetMillis()
        offsetMemo.value = value
        return value
    }

    /// What every answer does first: the clock learnt from it, the trip counted.
    private func received(_ answered: Answered, summary: inout SyncSummary) throws {
        let exchange = answered.exchange
        try learnClock(server: exchange.response.clockMillis, sentAt: answered.sentAt, receivedAt: answered.receivedAt)
        summary.roundTrips += 1
        summary.bytesSent += exchange.bytesSent
        summary.bytesReceived += exchange.bytesReceived
    }

    /// The server's clock tells ours how wrong it is: correct the wall clock for new stamps.
    private func learnClock(server: Int64, sentAt: Int64, receivedAt: Int64) throws {
        let midpoint = sentAt / 2 + receivedAt / 2
        let residual = server.subtractingReportingOverflow(midpoint)
        guard !residual.overflow, abs(residual.partialValue) > max(clockTolerance, (receivedAt - sentAt) / 2) else {
            return
        }
        let corrected = try clockOffset().addingReportingOverflow(residual.partialValue).partialValue
        try replica.setClockOffset(corrected)
        offsetMemo.value = corrected
        logger.notice("clock corrected", metadata: ["sync.clock.offset_ms": "\(corrected)"])
    }

    /// The server refused our stamps: act on what it found off (``ClockDriftCause``), move the pending
    /// stamps, and try again; throws the problem when nothing here can make the next request pass.
    private func repairClock(_ problem: Problem, pushed: FeedCursor, summary: inout SyncSummary) throws {
        // A cause this version does not know is no cause: the rules of a server that sends none.
        let cause = problem.clockDriftCause.flatMap { cause in
            [ClockDriftCause.clockAhead, .clockBehind, .stampsAhead, .relayedStampsAhead].contains(cause) ? cause : nil
        }
        // Another node's stamp, relayed: nothing of ours to repair (decision record 0006).
        if cause == .relayedStampsAhead { throw problem }
        // The clock is corrected, unless the server found it right (a clock set right since the stamps were
        // made: moved by the offset, it would be wrong the other way, and the next request refused).
        if cause != .stampsAhead, let server = problem.serverClockMillis {
            let offset = try clockOffset()
            let now = Int64(clamping: Replica.corrected(replica.configuration.clock.nowMillis(), by: offset))
            try learnClock(server: server, sentAt: now, receivedAt: now)
        }
        guard let offset = problem.offsetMillis, offset != .min, offset != .max else { throw problem }
        let moved = try replica.repairPendingStamps(since: pushed, offsetMillis: offset)
        summary.repairedStamps += moved
        summary.repairOffsetMillis = summary.repairOffsetMillis &+ offset
        logger.notice(
            "pending stamps repaired",
            metadata: ["sync.clock.repair_ms": "\(offset)", "sync.clock.repaired": "\(moved)"])
        // Nothing moved: only a corrected clock can make the next request pass.
        let clockCorrected =
            cause == .clockAhead || cause == .clockBehind || (cause == nil && problem.serverClockMillis != nil)
        if moved == 0, !clockCorrected { throw problem }
    }

    private func pendingHeartbeat(_ state: PeerState) throws -> Heartbeat {
        let pending = try replica.pendingSummary(since: state.pushed, to: peer)
        // Stamps are taken on the corrected clock: ages too, or a corrected device's backlog looks a year old.
        let correction = try clockOffset()
        let now = Int64(clamping: Replica.corrected(replica.configuration.clock.nowMillis(), by: correction))
        return Heartbeat(
            app: appVersion, backlog: pending.count,
            oldestPendingMillis: pending.oldestMillis.map { max(0, now - $0) }, lastError: state.lastError,
            clockCorrectionMillis: correction)
    }

    /// `heartbeat` as it goes with `request`: the server records it once that request's push is applied, so
    /// its backlog leaves out the records the push carries (a device that sent everything reports none).
    private static func heartbeat(_ heartbeat: Heartbeat?, sentWith request: PreparedRequest) -> Heartbeat? {
        guard var heartbeat else { return nil }
        heartbeat.backlog = max(0, heartbeat.backlog - Int64(request.records))
        if heartbeat.backlog == 0 { heartbeat.oldestPendingMillis = nil }
        return heartbeat
    }
}

extension SyncSession {
    /// The decisions of a sync, as a value: the driver (``SyncSession/run(progress:)``) tells it what
    /// happened (``Event``) and performs what it answers (``Action``). It does no I/O, reads no clock and
    /// starts no thread: each rule below is tested by feeding it events.
    ///
    /// A sync, as docs/protocol.md says (sections 9–15):
    /// 1. **Load** the positions and leases saved with the server.
    /// 2. **Settle** a lease move an earlier sync left pending: send it alone, pushing and pulling nothing,
    ///    then the one behind it if there are two (section 11, rule 4).
    /// 3. **Push** this node's changes a page at a time from the acknowledged position; only the last page
    ///    pulls (section 9). Every request moves the lease, saved before it leaves (rule 1). When the
    ///    transport takes two requests at once, the next page goes out before the answer to the one before
    ///    it (the push window); refused as `out-of-order`, it is sent again after that answer.
    /// 4. **Pull** while the answer says `more`.
    /// 5. **Apply** each answer, in the order the requests went out: its page, the positions, the lease and
    ///    the refused records in one transaction (section 9). The next request is out meanwhile.
    /// 6. **Stop** when the push is drained and the pull has no more; or, once nothing is in flight, on a
    ///    refusal: `clock-drift` repairs the pending stamps and starts again (at most three times, section
    ///    13), `duplicate-node` and `node-taken` take a new node id and start again (once, section 15), and
    ///    anything else ends the sync.
    package struct StateMachine: Sendable {
        package let configuration: Configuration
        /// This node's clock correction: the one read when the sync started, as answers correct it.
        package internal(set) var clockOffset: Int64
        /// What the sync did so far.
        package internal(set) var summary = SyncSummary()

        // Internal, not private, only for the machine's own extension (SyncSession+StateMachineRefusals.swift).
        var phase = Phase.loading
        private var leases = Leases()
        private var rekeyedFrom: NodeID?
        /// The push position acknowledged and the pull cursor, as far as answers taken say.
        private var pushed = FeedCursor.start
        private var pulled = FeedCursor.start
        private var heartbeat: Heartbeat?
        /// The next page read is the first push request since the last load: it carries the heartbeat, and
        /// goes out alone (the window waits for an answer of this sync).
        private var firstPush = false
        /// Requests out, oldest first (two at most), with their outcome once it came.
        private var inFlight: [InFlight] = []
        /// Applies not reported yet, oldest first: the records each pulled (nil: a lease settled alone).
        private var applying: [Int?] = []
        /// A page asked for and not read yet, and what it is for.
        private var reading: Reading?
        var repairs = 0
        var rekeyed = false
        private var lastID = 0
        private var actions: [Action] = []

        package init(configuration: Configuration, clockOffset: Int64) {
            self.configuration = configuration
            self.clockOffset = clockOffset
        }

        /// The first action of a sync.
        package func start() -> [Action] { [.load(heartbeat: true)] }

        /// Takes in what happened; returns what to do next, in order.
        package mutating func handle(_ event: Event) -> [Action] {
            switch event {
            case .loaded(let saved): load(saved)
            case .read(let page): read(page)
            case .answered(let id, let exchange, let sentAt, let receivedAt):
                record(id, .answered(exchange, sentAt: sentAt, receivedAt: receivedAt))
            case .failed(let id, let error, let deviceClock): record(id, .failed(error, deviceClock: deviceClock))
            case .applied(let result): applied(result)
            case .repaired(let stamps): repaired(stamps)
            case .tookNewNodeID(let node, let restamped): tookNewNodeID(node, restamped: restamped)
            }
            advance()
            defer { actions = [] }
            return actions
        }

        // MARK: Starting

        private mutating func load(_ saved: Saved) {
            guard case .loading = phase else { return }
            (pushed, pulled, leases, rekeyedFrom) = (saved.pushed, saved.pulled, saved.leases, saved.rekeyedFrom)
            if let new = saved.heartbeat { heartbeat = new }
            if leases.pending != nil {
                phase = .settling
                settleNext()
            } else {
                startPushing()
            }
        }

        /// A request of an earlier sync got no answer: its lease move goes alone, pushing and pulling
        /// nothing, before this sync moves the lease again (a copy of this node restored from a backup
        /// holds the same pending move, which the server takes for a retry: decision record 0005).
        private mutating func settleNext() {
            lastID += 1
            send(
                Request(
                    id: lastID, page: nil, pull: nil, lease: .init(previous: leases.current, next: leases.pending),
                    saveFirst: nil, heartbeat: nil, rekeyedFrom: rekeyedFrom, clockOffset: clockOffset))
        }

        private mutating func startPushing() {
            phase = .syncing
            firstPush = true
            readPage(.next, after: pushed)
        }

        // MARK: Sending

        private mutating func readPage(_ purpose: Reading, after cursor: FeedCursor) {
            reading = purpose
            emit(.read(after: cursor))
        }

        private mutating func read(_ page: PushPage) {
            guard let purpose = reading else { return }
            reading = nil
            guard case .syncing = phase else { return }  // stopped meanwhile: nothing more goes out
            switch purpose {
            case .next:
                let first = firstPush
                firstPush = false
                sendNext(page, heartbeat: first ? Self.heartbeat(heartbeat, sentWith: page.records) : nil)
                if !first { sendBehindIfAllowed() }
            case .behind:
                // It moves on from the oldest request's move and names the lease that one moved from (`after`).
                leases.then = configuration.makeLease()
                send(
                    request(
                        page, lease: .init(previous: leases.pending, next: leases.then, after: leases.current),
                        saveFirst: leases, heartbeat: nil))
            }
        }

        /// Every request moves the lease (a copy of this node is caught at its first request), saved before it
        /// leaves: a retry after a crash sends the same pair.
        private mutating func sendNext(_ page: PushPage, heartbeat: Heartbeat?) {
            var save: Leases?
            if leases.pending == nil {
                leases.pending = configuration.makeLease()
                save = leases
            }
            send(
                request(
                    page, lease: .init(previous: leases.current, next: leases.pending), saveFirst: save,
                    heartbeat: heartbeat))
        }

        /// The push window (decision record 0007): the page after the oldest request goes out before its
        /// answer when the transport takes two requests at once, that request pushes with pages after it and
        /// pulls nothing, and this node holds a lease with the server (an answer of this sync came).
        private mutating func sendBehindIfAllowed() {
            guard configuration.allowsConcurrentExchanges, inFlight.count == 1, let front = inFlight.first,
                let page = front.request.page, page.hasMore, front.request.pull == nil,
                leases.current != nil, leases.pending != nil, leases.then == nil,
                front.request.lease.next == leases.pending
            else { return }
            // Not behind a request refused as out of order: it is sent again, and one sent behind it now would
            // overtake it as well.
            if case .failed(let error, _)? = front.outcome, Self.isOutOfOrder(error) { return }
            readPage(.behind, after: page.end)
        }

        /// Only the last page of the push pulls: the server reads no empty pull page for every page before it.
        private mutating func request(
            _ page: PushPage, lease: SyncRequest.Lease, saveFirst: Leases?, heartbeat: Heartbeat?
        ) -> Request {
            lastID += 1
            return Request(
                id: lastID, page: page, pull: page.hasMore ? nil : pulled, lease: lease, saveFirst: saveFirst,
                heartbeat: heartbeat, rekeyedFrom: rekeyedFrom, clockOffset: clockOffset)
        }

        private mutating func send(_ request: Request) {
            inFlight.append(InFlight(request: request))
            emit(.send(request))
        }

        // MARK: Answers

        private mutating func record(_ id: Int, _ outcome: Outcome) {
            guard let index = inFlight.firstIndex(where: { $0.request.id == id }) else { return }
            inFlight[index].outcome = outcome
        }

        /// Takes the outcome of the oldest request once it came and the answer before it is applied (answers
        /// are taken in the order their requests went out); stopping, decides once nothing is in flight.
        private mutating func advance() {
            while reading == nil {
                switch phase {
                case .settling, .syncing:
                    guard let front = inFlight.first, let outcome = front.outcome else { return }
                    if sendAgainIfOvertaken() { return }
                    guard applying.isEmpty else { return }
                    switch outcome {
                    case .answered(let exchange, let sentAt, let receivedAt):
                        inFlight.removeFirst()
                        take(exchange, answering: front.request, sentAt: sentAt, receivedAt: receivedAt)
                    case .failed(let error, let deviceClock):
                        if inFlight.count > 1 {
                            // Whether the request behind it was accepted tells whether this one was applied.
                            guard let behind = inFlight[1].outcome else { return }
                            if case .answered = behind {
                                inFlight.removeFirst()
                                acknowledgeLostAnswer(of: front.request)
                                continue
                            }
                        }
                        inFlight.removeFirst()
                        stop(error, byApply: false, deviceClock: deviceClock)
                    }
                case .stopping(let stop):
                    guard applying.isEmpty, inFlight.allSatisfy({ $0.outcome != nil }) else { return }
                    inFlight.removeAll()
                    decide(stop)
                    return
                default: return
                }
            }
        }

        /// The oldest request overtook the one before it (refused as `out-of-order`: nothing applied, nothing
        /// recorded). That one is answered now: it goes again, as it was, once.
        private mutating func sendAgainIfOvertaken() -> Bool {
            guard let front = inFlight.first, case .failed(let error, _)? = front.outcome, Self.isOutOfOrder(error),
                front.request.lease.after != nil, !front.sentAgain
            else { return false }
            inFlight[0].outcome = nil
            inFlight[0].sentAgain = true
            emit(.sendAgain(front.request.id))
            return true
        }

        private mutating func take(
            _ exchange: SyncExchange, answering request: Request, sentAt: Int64, receivedAt: Int64
        ) {
            let response = exchange.response
            learnClock(server: response.clockMillis, sentAt: sentAt, receivedAt: receivedAt)
            summary.roundTrips += 1
            summary.bytesSent += exchange.bytesSent
            summary.bytesReceived += exchange.bytesReceived
            // The server accepted the request: the lease it moved to is ours now.
            let lease = request.lease.next
            leases.acknowledge(lease)
            guard let page = request.page else {
                // A lease settled alone: saved, then the next one, or the push.
                apply(ChangeBatch(), sender: nil, progress: PeerProgress(lease: lease), pulled: nil)
                return
            }
            summary.pushed += response.pushed?.records ?? 0
            // Nothing pushed (only echo skipped): the position moves without an ack.
            let pushedTo = page.records == 0 ? page.end : response.pushed?.to
            let pull = response.pull
            let pushDrained = !page.hasMore && (page.records == 0 || response.pushed != nil)
            if let pushedTo { pushed = pushedTo }
            if let pull { pulled = pull.cursor }
            // This node's records its server refused now, and those its server's own server refused (they come
            // back as departures with their reason): all set aside when the answer is saved (section 14).
            let refused = (response.pushed?.refused ?? []) + (pull?.refused ?? [])
            summary.refused += refused.count
            if pushDrained && !(pull?.more ?? false) {
                phase = .finishing
            } else if inFlight.isEmpty {
                readPage(.next, after: pushed)
            } else if !sendAgainIfOvertaken() {
                // The request sent behind this one is the oldest now; another may go behind it.
                sendBehindIfAllowed()
            }
            // After the next request is out: the server works on it while this answer is applied.
            let batch = pull?.batch ?? ChangeBatch()
            let progress = PeerProgress(
                pushed: pushedTo, pulled: pull?.cursor, lease: lease, refused: refused, left: pull?.left ?? [])
            apply(batch, sender: response.node, progress: progress, pulled: batch.recordCount)
        }

        /// The answer to `request` was lost, but the request sent behind it was accepted: so was this one (the
        /// lease moved on from its move). Its progress is saved, and the sync goes on from the next answer.
        private mutating func acknowledgeLostAnswer(of request: Request) {
            leases.acknowledge(request.lease.next)
            if let page = request.page {
                summary.pushed += page.records
                pushed = page.end
            }
            let progress = PeerProgress(pushed: pushed, lease: request.lease.next)
            apply(ChangeBatch(), sender: nil, progress: progress, pulled: 0)
        }

        private mutating func apply(_ batch: ChangeBatch, sender: NodeID?, progress: PeerProgress, pulled: Int?) {
            applying.append(pulled)
            emit(.apply(Apply(batch: batch, sender: sender, progress: progress)))
        }

        private mutating func applied(_ result: Result<Int, any Error>) {
            guard !applying.isEmpty else { return }
            let pulledRecords = applying.removeFirst()
            switch result {
            case .failure(let error):
                stop(error, byApply: true, deviceClock: nil)
            case .success(let conflicts):
                if let pulledRecords {
                    summary.pulled += pulledRecords
                    summary.conflicts += conflicts
                    emit(.progress(summary))
                }
                guard applying.isEmpty, inFlight.isEmpty else { return }
                switch phase {
                case .settling: leases.pending != nil ? settleNext() : startPushing()
                case .finishing:
                    phase = .ended
                    summary.clockOffsetMillis = clockOffset
                    emit(.finish(summary))
                default: break
                }
            }
        }

        private static func isOutOfOrder(_ error: any Error) -> Bool { (error as? Problem)?.code == .outOfOrder }

        mutating func emit(_ action: Action) { actions.append(action) }
    }
}

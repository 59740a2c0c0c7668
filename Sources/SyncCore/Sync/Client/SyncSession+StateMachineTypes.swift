extension SyncSession.StateMachine {
    /// What happened: the driver tells the machine with ``SyncSession/StateMachine/handle(_:)``.
    package enum Event: Sendable {
        /// What the replica has saved of the sync with this server (asked for by ``Action/load(heartbeat:)``).
        case loaded(Saved)
        /// The page of this node's changes asked for by ``Action/read(after:)`` was read (and its request
        /// prepared).
        case read(PushPage)
        /// The request with this id got a whole `200` answer, with the corrected times (of the clock
        /// correction it was sent with) it left and came back.
        case answered(Int, SyncExchange, sentAt: Int64, receivedAt: Int64)
        /// The request with this id got no answer, or a refusal (a ``Problem``); `deviceClock` is the
        /// device's own clock (uncorrected) when it failed.
        case failed(Int, any Error, deviceClock: UInt64)
        /// The oldest ``Action/apply(_:)`` not reported yet was committed (with the conflicts it kept), or failed.
        case applied(Result<Int, any Error>)
        /// ``Action/repairStamps(offsetMillis:)`` moved this many pending stamps.
        case repaired(stamps: Int)
        /// ``Action/takeNewNodeID`` gave this replica `node`, restamping this many pending writes.
        case tookNewNodeID(NodeID, restamped: Int)
    }

    /// What to do: the driver performs the actions in the order given.
    package enum Action: Sendable {
        /// Read the positions and leases saved with the server, and the heartbeat if asked, then report
        /// ``Event/loaded(_:)``.
        case load(heartbeat: Bool)
        /// Read the page of this node's own changes after `after`, prepare its request, report
        /// ``Event/read(_:)``.
        case read(after: FeedCursor)
        /// Save the request's leases (``Request/saveFirst``) if it says so, then send it: the page just read
        /// (or nothing, for a request without a page), stamped with the corrected clock.
        case send(Request)
        /// Send the request with this id again, as it was: it overtook the one before it (`out-of-order`).
        case sendAgain(Int)
        /// Merge a pulled page and save the progress with it, in one transaction; report ``Event/applied(_:)``.
        case apply(Apply)
        /// Save this node's new clock correction.
        case saveClockOffset(Int64)
        /// Move this node's pending stamps (after its saved push position) by the offset; report
        /// ``Event/repaired(stamps:)``.
        case repairStamps(offsetMillis: Int64)
        /// Give this replica a new node id; report ``Event/tookNewNodeID(_:restamped:)``.
        case takeNewNodeID
        /// Tell the caller how far the sync is.
        case progress(SyncSummary)
        /// The sync is over.
        case finish(SyncSummary)
        /// The sync failed with this error (nothing is in flight any more).
        case fail(any Error)
    }

    package struct Configuration: Sendable {
        /// A residual clock offset under this is network noise, not a wrong clock.
        package var clockTolerance: Int64
        /// Whether the transport takes two requests at once: the push window (decision record 0007).
        package var allowsConcurrentExchanges: Bool
        /// Draws a new lease.
        package var makeLease: @Sendable () -> UInt64

        package init(
            clockTolerance: Int64 = 2000, allowsConcurrentExchanges: Bool = false,
            makeLease: @escaping @Sendable () -> UInt64
        ) {
            self.clockTolerance = clockTolerance
            self.allowsConcurrentExchanges = allowsConcurrentExchanges
            self.makeLease = makeLease
        }
    }

    /// The lease this node holds with the server, the one its unanswered request moves to, and the one the
    /// request sent behind that one moves to (docs/protocol.md, section 11).
    package struct Leases: Sendable, Equatable {
        package var current: UInt64?
        package var pending: UInt64?
        package var then: UInt64?

        package init(current: UInt64? = nil, pending: UInt64? = nil, then: UInt64? = nil) {
            self.current = current
            self.pending = pending
            self.then = then
        }

        /// The server accepted the move to `lease` (the oldest pending one): it is ours now.
        mutating func acknowledge(_ lease: UInt64?) {
            guard let lease else { return }
            current = lease
            pending = then
            then = nil
        }
    }

    /// What the replica has saved of the sync with the server.
    package struct Saved: Sendable {
        /// The acknowledged push position and the pull cursor.
        package var pushed: FeedCursor
        package var pulled: FeedCursor
        package var leases: Leases
        /// The node id this replica had before it took a new one, sent with every request.
        package var rekeyedFrom: NodeID?
        /// The heartbeat for the first push request, when ``Action/load(heartbeat:)`` asked for one.
        package var heartbeat: Heartbeat?

        package init(
            pushed: FeedCursor = .start, pulled: FeedCursor = .start, leases: Leases = Leases(),
            rekeyedFrom: NodeID? = nil, heartbeat: Heartbeat? = nil
        ) {
            self.pushed = pushed
            self.pulled = pulled
            self.leases = leases
            self.rekeyedFrom = rekeyedFrom
            self.heartbeat = heartbeat
        }
    }

    /// A page of this node's own changes, as the machine sees it (the records stay with the driver).
    package struct PushPage: Sendable, Equatable {
        /// The push position it follows.
        package var start: FeedCursor
        /// The push position once it is acknowledged (its `push.to`).
        package var end: FeedCursor
        /// Records it pushes; with none, the request pushes nothing and the position moves without an ack.
        package var records: Int
        /// Whether pages follow it.
        package var hasMore: Bool

        package init(start: FeedCursor, end: FeedCursor, records: Int, hasMore: Bool) {
            self.start = start
            self.end = end
            self.records = records
            self.hasMore = hasMore
        }
    }

    /// A request to send.
    package struct Request: Sendable {
        /// Its number in this sync, from 1.
        package var id: Int
        /// The page it pushes; nil for a request that pushes and pulls nothing (a lease settled alone).
        package var page: PushPage?
        /// The cursor it pulls from, if it pulls.
        package var pull: FeedCursor?
        package var lease: SyncRequest.Lease
        /// The leases to save before it leaves (nil: already saved).
        package var saveFirst: Leases?
        /// With the first push request of a sync (with a hub's relayed statuses and conflicts).
        package var heartbeat: Heartbeat?
        package var rekeyedFrom: NodeID?
        /// The clock correction to stamp it with.
        package var clockOffset: Int64
    }

    /// An answer to save: its pulled page (possibly empty) and the progress it made, in one transaction.
    package struct Apply: Sendable {
        package var batch: ChangeBatch
        /// The server's node (its own stamps are held to the drift bound, those it relays to twice that).
        package var sender: NodeID?
        package var progress: PeerProgress
    }

    // MARK: The machine's own state

    /// Where a sync is.
    enum Phase {
        /// Waiting for what is saved (at the start, after a repair, after a new node id).
        case loading
        /// Sending pending lease moves alone.
        case settling
        /// Pushing and pulling.
        case syncing
        /// The last answer is being applied.
        case finishing
        /// A request or an apply failed: waiting for what is in flight before deciding.
        case stopping(Stop)
        case repairing(Problem, offset: Int64)
        case takingNewNodeID
        case ended
    }

    /// Why a sync stops.
    struct Stop {
        var error: any Error
        /// An apply's error comes first: a repair or a new node id must start from saved positions.
        var byApply: Bool
        var deviceClock: UInt64?
    }

    /// A request out, with its outcome once it came.
    struct InFlight {
        var request: Request
        var outcome: Outcome?
        var sentAgain = false
    }

    enum Outcome {
        case answered(SyncExchange, sentAt: Int64, receivedAt: Int64)
        case failed(any Error, deviceClock: UInt64)
    }

    /// What a page asked for is for: the next request, or one sent behind the oldest.
    enum Reading { case next, behind }
}

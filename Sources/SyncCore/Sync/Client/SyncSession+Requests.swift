import Dispatch
import Synchronization

extension SyncSession {
    /// A request whose push is read, encoded and compressed ahead (while the request before it is in
    /// flight); its clock, lease and pull are added when it is sent.
    final class PreparedRequest {
        let page: StateMachine.PushPage
        /// The request without its clock, pull and lease, and without the records of its push.
        private let head: SyncRequest
        /// In the best coding the server said it takes (else gzip at level 1: a request carries this device's
        /// own changes, compressed on a cheap phone's CPU).
        private let stream: BodyStream
        var coding: ContentCoding { stream.coding }

        init(after start: FeedCursor, page feed: FeedPage, node: NodeID, coding: ContentCoding) {
            page = .init(start: start, end: feed.cursor, records: feed.batch.recordCount, hasMore: feed.hasMore)
            stream = coding.stream(level: coding == .gzip ? 1 : nil)
            var head = SyncRequest(
                node: node, clockMillis: 0, push: feed.batch.isEmpty ? nil : .init(batch: feed.batch, to: feed.cursor))
            stream.write(head.encodedHead())
            // Encoded: the records are freed on the thread that prepares, not on the way of a request.
            head.push?.batch = ChangeBatch()
            self.head = head
        }

        /// A request that pushes nothing (a lease settled alone).
        convenience init(empty node: NodeID, coding: ContentCoding) {
            self.init(
                after: .start, page: FeedPage(batch: ChangeBatch(), cursor: .start, hasMore: false), node: node,
                coding: coding)
        }

        /// The request whole, its body finished. Once only: the stream is done after.
        func finish(
            clock: Int64, offset: Int64, lease: SyncRequest.Lease, rekeyedFrom: NodeID?, pull: SyncRequest.Pull?,
            heartbeat: Heartbeat?, relayed: [DeviceStatus], conflicts: [HistoryEntry]
        ) -> Outgoing {
            var request = head
            request.clockMillis = clock
            request.lease = lease
            request.rekeyedFrom = rekeyedFrom
            request.pull = pull
            request.heartbeat = heartbeat
            request.relayed = relayed
            request.conflicts = conflicts
            let body = SyncRequestBody(bytes: stream.finish(request.encodedTail()), coding: stream.coding)
            return Outgoing(request: request, body: body, offset: offset)
        }
    }

    /// A request ready to leave (its push records left out of `request`: they are in `body`).
    struct Outgoing: Sendable {
        let request: SyncRequest
        let body: SyncRequestBody
        /// The clock correction its clock was taken with (its answer's time is taken with it too).
        let offset: Int64
    }

    /// The next push page, read, encoded and compressed on a queue of its own while a request is in flight:
    /// one page ahead. (Two pages ahead, and a thread at a lower priority, measured no better: decision
    /// record 0004 and docs/benchmarks.md, "Issue 18".)
    final class ReadAhead: @unchecked Sendable {
        // @unchecked: `result` is written by the job on `queue` and read after `queue.sync`, which orders the
        // two; `start` is the driver's thread's alone.
        private let queue = DispatchQueue(label: "fieldsync.session.read-ahead")
        private var result: Result<PreparedRequest, any Error>?
        /// Where the page being read ahead starts.
        private var start: FeedCursor?

        /// Reads ahead the page after `cursor` (replacing one not taken).
        func start(
            after cursor: FeedCursor, jobs: DispatchGroup, _ prepare: @escaping @Sendable () throws -> PreparedRequest
        ) {
            discard()
            start = cursor
            queue.async(group: jobs) { [self] in result = Result(catching: prepare) }
        }

        /// The page read ahead, once read, if it follows `cursor`, its read succeeded and it is compressed in
        /// `coding` (the first answer of a sync tells whether the server takes zstd); else nil, and it is
        /// dropped (a failed read is read again by the caller, and its error thrown there).
        func take(after cursor: FeedCursor, coding: ContentCoding) -> PreparedRequest? {
            guard let start else { return nil }
            queue.sync {}
            defer { discard() }
            guard start == cursor, case .success(let prepared)? = result, prepared.coding == coding else { return nil }
            return prepared
        }

        /// Waits for a read still running, and drops what it read.
        func discard() {
            guard start != nil else { return }
            queue.sync {}
            result = nil
            start = nil
        }
    }

    /// Events posted by the jobs on other threads, taken in turn by the driver's thread.
    final class Mailbox<Item: Sendable>: Sendable {
        private let items = Mutex<[Item]>([])
        private let ready = DispatchSemaphore(value: 0)

        func post(_ item: Item) {
            items.withLock { $0.append(item) }
            ready.signal()
        }

        /// The oldest item, waiting for one if there is none.
        func take() -> Item {
            ready.wait()
            return items.withLock { $0.removeFirst() }
        }
    }
}

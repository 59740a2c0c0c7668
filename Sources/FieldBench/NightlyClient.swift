import Foundation
import SyncClient
import SyncCore

/// A device or hub of the nightly load, held in memory: the real client's sync (``SyncSession``'s own
/// ``SyncSession/StateMachine``: leases, heartbeat, positions, pages, refusals) over the real libcurl
/// transport, with the replica replaced by what the night needs of it.
///
/// Its pushes are pages a real replica read (each device's deliveries were logged in an in-memory
/// replica with the device's node id: the same records, stamps and ids a device sends); its pulled pages
/// are decoded by the transport, as on a device, and counted, not merged into SQLite (a device's merge
/// would cost the load generator as much CPU as the server's work, on the same two cores). What it keeps
/// between syncs is what a replica keeps with its server: push position, pull cursor, leases.
final class NightlyClient: @unchecked Sendable {
    // @unchecked: a client is synced by one worker thread at a time (the night hands each client to one
    // worker, and the nights follow each other).
    let node: NodeID
    let token: String
    let city: String
    /// Pages of this node's own changes, in feed order: the push of each night.
    private let pages: [(batch: ChangeBatch, start: FeedCursor, end: FeedCursor)]
    private var pushed = FeedCursor.start
    private var pulled: FeedCursor
    private var leases = SyncSession.StateMachine.Leases()

    init(
        node: NodeID, token: String, city: String, pulled: FeedCursor = .start,
        pages: [(batch: ChangeBatch, start: FeedCursor, end: FeedCursor)] = []
    ) {
        self.node = node
        self.token = token
        self.city = city
        self.pulled = pulled
        self.pages = pages
    }

    /// The pull cursor (a hub's, after its first pull: where its city's devices start).
    var pullCursor: FeedCursor { pulled }

    /// One sync with `server`, to the end: pushes this node's changes up to `night`'s page (those of later
    /// nights are not written yet) and pulls until the server has no more. Throws the transport's or the
    /// server's error.
    func sync(server: String, night: Int = 0) throws -> SyncSummary {
        let written = pages.prefix(night + 1)
        var configuration = ClientConfiguration(serverURL: server, token: token)
        configuration.attempts = 2
        // A device opens a connection of its own for its nightly sync.
        let transport = CurlTransport(configuration: configuration, logger: benchLogger)
        var machine = SyncSession.StateMachine(
            configuration: .init(allowsConcurrentExchanges: false, makeLease: { UInt64.random(in: 1...UInt64.max) }),
            clockOffset: 0)
        var actions = machine.start()
        var read: (batch: ChangeBatch, start: FeedCursor, end: FeedCursor)?
        while !actions.isEmpty {
            let event: SyncSession.StateMachine.Event?
            switch actions.removeFirst() {
            case .finish(let summary): return summary
            case .fail(let error): throw error
            case .progress, .saveClockOffset: event = nil
            case .load(let heartbeat):
                let pending = written.filter { $0.start >= pushed }.reduce(0) { $0 + $1.batch.recordCount }
                event = .loaded(
                    .init(
                        pushed: pushed, pulled: pulled, leases: leases,
                        heartbeat: heartbeat
                            ? Heartbeat(
                                app: "fieldsync/\(FieldSyncVersion.current)", backlog: Int64(pending),
                                oldestPendingMillis: pending > 0 ? 8 * 3_600_000 : nil)
                            : nil))
            case .read(let after):
                read = written.first { $0.start == after } ?? (ChangeBatch(), after, after)
                event = .read(
                    .init(start: after, end: read!.end, records: read!.batch.recordCount, hasMore: false))
            case .send(let request):
                if let save = request.saveFirst { leases = save }
                var body = SyncRequest(node: node, clockMillis: Int64(SystemClock().nowMillis()))
                if let page = request.page, page.records > 0, let read, read.start == page.start {
                    body.push = .init(batch: read.batch, to: read.end)
                }
                body.pull = request.pull.map { .init(cursor: $0) }
                body.heartbeat = request.heartbeat
                body.lease = request.lease
                let sentAt = body.clockMillis
                do {
                    let exchange = try transport.exchange(SyncRequestBody(body, coding: transport.requestCoding))
                    event = .answered(
                        request.id, exchange, sentAt: sentAt, receivedAt: Int64(SystemClock().nowMillis()))
                } catch {
                    event = .failed(request.id, error, deviceClock: SystemClock().nowMillis())
                }
            case .apply(let apply):
                // What a replica saves with the pulled page: positions, and the lease the server moved to.
                let progress = apply.progress
                if let to = progress.pushed { pushed = to }
                if let to = progress.pulled { pulled = to }
                if let lease = progress.lease, leases.pending == lease {
                    leases = .init(current: lease, pending: leases.then, then: nil)
                }
                event = .applied(.success(0))
            case .sendAgain, .repairStamps, .takeNewNodeID:
                // None of these happens in the night (one request at a time, clocks right, nodes unique).
                throw SyncError(.invalidBatch, "the nightly client met a case it does not handle")
            }
            if let event { actions.insert(contentsOf: machine.handle(event), at: 0) }
        }
        throw SyncError(.invalidBatch, "the nightly client's sync stopped without an end")
    }
}

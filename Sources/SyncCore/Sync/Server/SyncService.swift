public import Logging

/// The server side of `POST /v1/sync`, transport-free: the protocol's order of checks and steps over a
/// ``SyncStore``.
///
/// The HTTP server calls it after authentication; the simulation and the tests call it directly (through
/// ``handleWaiting(_:principal:now:)`` from a synchronous transport).
public struct SyncService: Sendable {
    public let store: any SyncStore
    public var logger: Logger
    /// Records per pull page at most, whatever the client asks. Default 5,000.
    public var maxPullRecords = 5000

    public init(store: any SyncStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// A service over an embedded replica (``ReplicaStore``).
    public init(replica: Replica, logger: Logger) throws {
        self.init(store: try ReplicaStore(replica), logger: logger)
    }

    /// The peer key under which a client's echo ranges are kept.
    public static func peerKey(client node: NodeID) -> String { ClientPush.peerKey(client: node) }

    /// Handles one sync request from an authenticated principal at server time `now` (Unix ms).
    ///
    /// Throws `.clockDrift` (with the offset the client must add, and what is off: ``ClockDriftCause``) when
    /// a push comes from a client whose clock is more than the drift bound away, or carries stamps too far
    /// ahead; `.outOfScope` for a push from a device stamped by another node (identity: the whole
    /// request); `.invalidBatch` for a malformed batch; `.duplicateNode` or `.outOfOrder` for a lease that
    /// does not follow. A record outside the principal's scope, with a value the schema does not allow, or
    /// naming a record of another scope is refused on its own and named in the answer
    /// (`pushed.refused`); the rest of the push is applied, in one transaction.
    /// `leaseChecked`: the caller already ran ``checkLease(_:principal:now:)`` for this request (a pull it
    /// may answer from a page read ahead); otherwise a push moves the lease in the transaction that
    /// applies it. `streamed`: the push's records already offered to a stream as they decoded (see
    /// ``PushStream``), begun at the same `now`; committed here once the push passed every check (the
    /// caller aborts it when this throws).
    public func handle(
        _ request: SyncRequest, principal: Principal, now: Int64, leaseChecked: Bool = false,
        streamed: (any PushStream)? = nil
    ) async throws -> SyncResponse {
        var response = SyncResponse(node: store.nodeID, clockMillis: now)
        if let push = request.push, request.pushesChanges {
            response.pushed = try await apply(
                push, of: request, principal: principal, now: now, leaseChecked: leaseChecked, streamed: streamed)
        } else {
            if !leaseChecked { try await checkLease(request, principal: principal, now: now) }
            if let push = request.push { response.pushed = .init(to: push.to, records: 0, conflicts: 0) }
        }
        if let pull = request.pull {
            response.pull = try await pullPage(pull, peer: Self.peerKey(client: request.node), principal: principal)
        }
        try await recordRelayed(request, principal: principal)
        if let heartbeat = request.heartbeat {
            // How wrong the device's own clock is: what we measure after its correction, plus the correction.
            let measured = now.subtractingReportingOverflow(request.clockMillis).partialValue
            let own = measured.addingReportingOverflow(heartbeat.clockCorrectionMillis)
            let status = DeviceStatus(
                node: request.node, name: principal.name, role: principal.role.rawValue, city: principal.city,
                heartbeat: heartbeat, clockOffsetMillis: own.overflow ? measured : own.partialValue,
                lastSeenMillis: now)
            try await store.recordStatuses([status], via: nil)
        }
        return response
    }

    /// Checks a push and applies it, its lease moving in the same transaction unless `leaseChecked`.
    private func apply(
        _ push: SyncRequest.Push, of request: SyncRequest, principal: Principal, now: Int64, leaseChecked: Bool,
        streamed: (any PushStream)?
    ) async throws -> SyncResponse.PushAck {
        try checkClock(request, now: now)
        try checkOrigins(push.batch, request: request, principal: principal)
        let lease = leaseChecked ? nil : request.lease.map { LeaseMove($0, node: request.node, now: now) }
        let pruneEchoBelow = request.pull?.cursor.base
        let report: ApplyReport
        do {
            if let streamed,
                let done = await streamed.finish(
                    lease: lease, pruneEchoBelow: pruneEchoBelow, records: push.batch.recordCount)
            {
                report = done
            } else {
                // Not streamed, or the stream failed and rolled back: the whole push, with the same outcome.
                report = try await store.apply(
                    ClientPush(
                        batch: push.batch, client: request.node, scope: principal.scope, role: principal.role,
                        lease: lease,
                        pruneEchoBelow: pruneEchoBelow, now: now))
            }
        } catch let error as SyncError where error.code == .duplicateNode {
            throw duplicated(request, principal: principal)
        } catch let error as SyncError where error.code == .clockDrift {
            // The store reports how far ahead the stamp is; the client must move its stamps back by that.
            var moved = error
            moved.clockOffsetMillis = error.clockOffsetMillis.map { $0 == .max ? .min : -$0 }
            throw moved
        }
        if !report.refused.isEmpty {
            logger.warning(
                "records refused",
                metadata: [
                    "sync.client": "\(request.node)", "sync.principal": "\(principal.name)",
                    "sync.refused": "\(report.refused.count)", "sync.refused.first": "\(report.refused[0].code)",
                ])
        }
        return .init(to: push.to, records: report.records, conflicts: report.conflicts, refused: report.refused)
    }

    /// Checks and moves the client's lease (see ``Lease``); throws `.duplicateNode` when two copies of the
    /// client's node id sync here, `.outOfOrder` when the request follows one not applied yet. A request
    /// without a lease (an older client) passes.
    public func checkLease(_ request: SyncRequest, principal: Principal, now: Int64) async throws {
        guard let lease = request.lease else { return }
        switch try await store.moveLease(LeaseMove(lease, node: request.node, now: now)) {
        case .accepted: return
        case .outOfOrder: throw Replica.outOfOrder(request.node)
        case .duplicate: throw duplicated(request, principal: principal)
        }
    }

    /// The refusal of a request from a second copy of a node, logged for the admin.
    private func duplicated(_ request: SyncRequest, principal: Principal) -> SyncError {
        logger.warning(
            "duplicated node id refused",
            metadata: ["sync.client": "\(request.node)", "sync.principal": "\(principal.name)"])
        return SyncError(
            .duplicateNode,
            "Two copies of node \(request.node) sync with this server (a device restored from another's backup?): "
                + "its lease does not follow the last one. Nothing was applied. This replica must take a new node id "
                + "(its pending writes move to it) and sync again.")
    }

    /// A hub's relayed conflicts and statuses, after the push (the records they are about are here now).
    private func recordRelayed(_ request: SyncRequest, principal: Principal) async throws {
        guard !request.relayed.isEmpty || !request.conflicts.isEmpty else { return }
        guard principal.role == .hub || principal.role == .admin else {
            throw SyncError(.outOfScope, "Only a hub relays its devices' statuses and conflicts. Nothing was applied.")
        }
        if !request.conflicts.isEmpty {
            try await store.recordConflicts(request.conflicts, scope: principal.scope)
        }
        guard !request.relayed.isEmpty else { return }
        for status in request.relayed where principal.scope != nil && status.city != principal.scope {
            throw SyncError(
                .outOfScope,
                "A relayed status of node \(status.node) is for \(status.city ?? "no city"), outside this hub's "
                    + "scope. Nothing was applied.")
        }
        let skipped = try await store.recordStatuses(request.relayed, via: request.node)
        if skipped > 0 {
            logger.warning(
                "relayed statuses skipped: not the hub's own devices",
                metadata: ["sync.client": "\(request.node)", "sync.skipped": "\(skipped)"])
        }
    }

    /// The page of the feed a client gets for `pull`: in the principal's scope, without what came from
    /// the client itself, within the record limit and the byte budget.
    public func pullPage(
        _ pull: SyncRequest.Pull, peer: String, principal: Principal
    ) async throws -> SyncResponse.PullPage {
        let filter = FeedFilter(scope: principal.scope, excludingEchoOf: peer)
        var limit = min(pull.limit, maxPullRecords)
        while true {
            let page = try await store.changes(since: pull.cursor, limit: limit, filter: filter)
            var result = SyncResponse.PullPage(
                batch: page.batch, cursor: page.cursor, more: page.hasMore, left: page.left, refused: page.refused)
            // A byte budget: halve the page until its encoding fits (a page of one record always goes). The
            // encoding that fits is the answer's: the page is not encoded twice.
            if let budget = pull.budget, limit > 1, page.batch.recordCount > 1 {
                var writer = JSONWriter(capacity: budget + 1024)
                WireBatch.encode(page.batch, into: &writer)
                if writer.bytes.count > budget {
                    limit = max(1, min(limit, page.batch.recordCount) / 2)
                    continue
                }
                result.encodedBatch = writer.bytes
            }
            return result
        }
    }
}

internal import GRDB
public import Logging

/// Who is calling, as established by the server from a bearer token.
public struct Principal: Sendable, Equatable {
    public enum Role: String, Sendable, CaseIterable {
        /// A volunteer's device: its city's records, its own changes only.
        case device
        /// A city hub: its city's records, relaying its devices' changes.
        case hub
        /// The admin: everything.
        case admin
    }

    public var role: Role
    /// The city a device or hub token is limited to; nil for admin.
    public var city: String?
    /// The token's label (for logs and the stale devices view; never the token itself).
    public var name: String

    public init(role: Role, city: String?, name: String) {
        self.role = role
        self.city = city
        self.name = name
    }

    /// The scope value records must carry, or nil when the principal sees everything.
    public var scope: String? { role == .admin ? nil : city }
}

/// The server side of `POST /v1/sync`, transport-free: checks, applies the push, reads the pull page.
///
/// The HTTP server calls it after authentication; the simulation calls it directly. It blocks on SQLite:
/// run it off event loops.
public struct SyncService: Sendable {
    public let replica: Replica
    public var logger: Logger
    /// Records per pull page at most, whatever the client asks. Default 5,000.
    public var maxPullRecords = 5000

    public init(replica: Replica, logger: Logger) {
        self.replica = replica
        self.logger = logger
    }

    /// The peer key under which a client's echo ranges are kept.
    public static func peerKey(client node: NodeID) -> String { "client:\(node)" }

    /// Handles one sync request from an authenticated principal at server time `now` (Unix ms).
    ///
    /// Throws `.clockDrift` (with the offset the client must add, and what is off: ``ClockDriftCause``) when
    /// a push comes from a client whose clock is more than the drift bound away, or carries stamps too far
    /// ahead; `.outOfScope` for a push
    /// from a device stamped by another node (identity: the whole request); `.invalidBatch` for a malformed
    /// batch. A record outside the principal's scope, with a value the schema does not allow, or naming a
    /// record of another scope is refused on its own and named in the answer (`pushed.refused`); the rest of
    /// the push is applied, in one transaction.
    /// `leaseChecked`: the caller already ran ``checkLease(_:principal:now:)`` for this request; otherwise
    /// a push moves the lease in the transaction that applies it. `streamed`: the push's records, already
    /// merging (see ``StreamedApply``; started with the same `now`), committed here once every check
    /// passed; a stream that failed leaves the push to be applied as usual. The caller aborts it if this
    /// throws first.
    public func handle(
        _ request: SyncRequest, principal: Principal, now: Int64, leaseChecked: Bool = false,
        streamed: StreamedApply? = nil
    ) throws -> SyncResponse {
        // A stream not finished below (a check threw first) rolls back before anything else writes.
        defer { streamed?.abort() }
        let peer = Self.peerKey(client: request.node)
        var response = SyncResponse(node: replica.nodeID, clockMillis: now)
        if let push = request.push, request.pushesChanges {
            try checkClock(request, now: now)
            try checkOrigins(push.batch, request: request, principal: principal)
            // The lease moves in the transaction that applies the push: one commit, not two.
            do {
                let lease = leaseChecked ? nil : request.lease.map { LeaseMove($0, node: request.node, now: now) }
                let pruneEchoBelow = request.pull?.cursor.base
                // A stream that started for another node (a body naming two) is dropped, before the apply.
                if let streamed, streamed.sender != request.node { streamed.abort() }
                let streamedReport = streamed?.finish(
                    lease: lease, pruneEchoBelow: pruneEchoBelow, records: push.batch.recordCount)
                let report =
                    try streamedReport
                    ?? replica.apply(
                        push.batch, from: peer, sender: request.node, scope: principal.scope, fromClient: true,
                        pruneEchoBelow: pruneEchoBelow, serverClock: now, lease: lease)
                response.pushed = .init(
                    to: push.to, records: report.records, conflicts: report.conflicts, refused: report.refused)
                if !report.refused.isEmpty {
                    logger.warning(
                        "records refused",
                        metadata: [
                            "sync.client": "\(request.node)", "sync.principal": "\(principal.name)",
                            "sync.refused": "\(report.refused.count)",
                            "sync.refused.first": "\(report.refused[0].code)",
                        ])
                }
            } catch let error as SyncError where error.code == .duplicateNode {
                // Rolled back: record the finding in its own transaction, and refuse as ever.
                try checkLease(request, principal: principal, now: now)
                throw error
            } catch let error as SyncError where error.code == .clockDrift {
                // The core reports how far ahead the stamp is; the client must move its stamps back by that.
                var moved = error
                moved.clockOffsetMillis = error.clockOffsetMillis.map { $0 == .max ? .min : -$0 }
                throw moved
            }
        } else {
            streamed?.abort()
            if !leaseChecked { try checkLease(request, principal: principal, now: now) }
            if let push = request.push { response.pushed = .init(to: push.to, records: 0, conflicts: 0) }
        }
        if let pull = request.pull {
            response.pull = try pullPage(pull, peer: peer, principal: principal)
        }
        if !request.relayed.isEmpty || !request.conflicts.isEmpty {
            guard principal.role == .hub || principal.role == .admin else {
                throw SyncError(
                    .outOfScope, "Only a hub relays its devices' statuses and conflicts. Nothing was applied.")
            }
        }
        if !request.conflicts.isEmpty {
            // After the push: the records they are about are here now.
            try replica.recordRelayed(request.conflicts, scope: principal.scope)
        }
        if !request.relayed.isEmpty {
            for status in request.relayed where principal.scope != nil && status.city != principal.scope {
                throw SyncError(
                    .outOfScope,
                    "A relayed status of node \(status.node) is for \(status.city ?? "no city"), outside this hub's "
                        + "scope. Nothing was applied.")
            }
            let skipped = try replica.recordRelayed(request.relayed, via: request.node)
            if skipped > 0 {
                logger.warning(
                    "relayed statuses skipped: not the hub's own devices",
                    metadata: ["sync.client": "\(request.node)", "sync.skipped": "\(skipped)"])
            }
        }
        if let heartbeat = request.heartbeat {
            // How wrong the device's own clock is: what we measure after its correction, plus the correction.
            let measured = now.subtractingReportingOverflow(request.clockMillis).partialValue
            let own = measured.addingReportingOverflow(heartbeat.clockCorrectionMillis)
            try replica.recordHeartbeat(
                heartbeat, node: request.node, principal: principal,
                clockOffsetMillis: own.overflow ? measured : own.partialValue, now: now)
        }
        return response
    }

    /// Checks and moves the client's lease (see ``SyncRequest/Lease``); throws `.duplicateNode` when two
    /// copies of the client's node id sync here. A request without a lease (an older client) passes.
    public func checkLease(_ request: SyncRequest, principal: Principal, now: Int64) throws {
        guard let lease = request.lease else { return }
        switch try replica.checkLease(lease, node: request.node, now: now) {
        case .accepted: return
        case .outOfOrder: throw Replica.outOfOrder(request.node)
        case .duplicate: break
        }
        logger.warning(
            "duplicated node id refused",
            metadata: ["sync.client": "\(request.node)", "sync.principal": "\(principal.name)"])
        throw SyncError(
            .duplicateNode,
            "Two copies of node \(request.node) sync with this server (a device restored from another's backup?): "
                + "its lease does not follow the last one. Nothing was applied. This replica must take a new node id "
                + "(its pending writes move to it) and sync again.")
    }

    private func checkClock(_ request: SyncRequest, now: Int64) throws {
        let offset = now.subtractingReportingOverflow(request.clockMillis)
        let bound = Int64(clamping: replica.configuration.maxClockDriftMillis)
        guard offset.overflow || abs(offset.partialValue) > bound else { return }
        let millis = offset.overflow ? (request.clockMillis > 0 ? Int64.min : Int64.max) : offset.partialValue
        throw SyncError(
            .clockDrift,
            "This device's clock is \(TimeSpan.describe(millis: millis.magnitude)) "
                + (millis < 0 ? "ahead of" : "behind") + " the server's (limit "
                + "\(TimeSpan.describe(millis: replica.configuration.maxClockDriftMillis))). Correct the clock by "
                + "offset_ms and repair the pending stamps, then sync again; nothing was applied.",
            clockOffsetMillis: millis, clockDriftCause: millis < 0 ? .clockAhead : .clockBehind)
    }

    /// A device pushes only what it wrote; nobody pushes as the server itself.
    private func checkOrigins(_ batch: ChangeBatch, request: SyncRequest, principal: Principal) throws {
        /// Why a stamp by `node` may not be pushed by this client, or nil (no message is built for one that may).
        func refusal(_ node: NodeID, record: RecordChange, group: CollectionChanges) -> String? {
            if principal.role == .device, node != request.node {
                return "Record \(record.id) of '\(group.name)' is stamped by node \(node), not by this device "
                    + "(\(request.node)): a device pushes only its own changes. Nothing was applied."
            }
            if principal.role != .admin, node == replica.nodeID {
                return "Record \(record.id) of '\(group.name)' claims this server's own node id. Nothing was applied."
            }
            return nil
        }
        for group in batch.collections {
            // Read in place: no copy of each record.
            try group.records.withUnsafeBufferPointer { records in
                for index in records.indices {
                    let record = records[index]
                    if let message = refusal(record.stamp.node, record: record, group: group) {
                        throw SyncError(.outOfScope, message)
                    }
                    for cell in record.cells {
                        if let node = cell.stamp?.node, let message = refusal(node, record: record, group: group) {
                            throw SyncError(.outOfScope, message)
                        }
                    }
                }
            }
        }
    }

    /// The page of this replica's feed a client gets for `pull`: in the principal's scope, without what
    /// came from the client itself, within the record limit and the byte budget.
    public func pullPage(_ pull: SyncRequest.Pull, peer: String, principal: Principal) throws -> SyncResponse.PullPage {
        let filter = FeedFilter(scope: principal.scope, excludingEchoOf: peer)
        var limit = min(pull.limit, maxPullRecords)
        while true {
            let page = try replica.changes(since: pull.cursor, limit: limit, filter: filter)
            let result = SyncResponse.PullPage(
                batch: page.batch, cursor: page.cursor, more: page.hasMore, left: page.left, refused: page.refused)
            // A byte budget: halve the page until its encoding fits (a page of one record always goes).
            if let budget = pull.budget, limit > 1, page.batch.recordCount > 1 {
                var writer = JSONWriter(capacity: budget + 1024)
                WireBatch.encode(page.batch, into: &writer)
                if writer.bytes.count > budget {
                    limit = max(1, min(limit, page.batch.recordCount) / 2)
                    continue
                }
            }
            return result
        }
    }
}

extension Replica {
    /// Saves what a client said of itself (the stale devices view reads it).
    public func recordHeartbeat(
        _ heartbeat: Heartbeat, node: NodeID, principal: Principal, clockOffsetMillis: Int64, now: Int64
    ) throws {
        try recordStatuses(
            [
                DeviceStatus(
                    node: node, name: principal.name, role: principal.role.rawValue, city: principal.city,
                    heartbeat: heartbeat, clockOffsetMillis: clockOffsetMillis, lastSeenMillis: now)
            ], via: nil as NodeID?)
    }

    /// Saves statuses a hub relayed; an older status never replaces a newer one. A hub speaks only for
    /// devices it serves: a status is skipped (and counted in the result) when it names the hub itself, a
    /// client that syncs here directly (it has a lease here), or a device whose status came from another
    /// hub or for another city.
    @discardableResult
    public func recordRelayed(_ statuses: [DeviceStatus], via hub: NodeID) throws -> Int {
        try recordStatuses(statuses, via: hub)
    }

    @discardableResult
    private func recordStatuses(_ statuses: [DeviceStatus], via hub: NodeID?) throws -> Int {
        let via = hub?.description
        do {
            return try writer.write { db in
                var skipped = 0
                for status in statuses {
                    if let hub {
                        let direct = try Int.fetchOne(
                            db, sql: "SELECT 1 FROM _leases WHERE node = ?", arguments: [status.node.description])
                        guard status.node != hub, status.node != nodeID, direct == nil else {
                            skipped += 1
                            continue
                        }
                    }
                    try db.execute(
                        sql: """
                            INSERT INTO _heartbeats(node, role, city, name, app, backlog, oldest_pending_ms, last_error,
                                clock_offset_ms, last_seen_ms, via)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                            ON CONFLICT(node) DO UPDATE SET role = excluded.role, city = excluded.city,
                                name = excluded.name, app = excluded.app, backlog = excluded.backlog,
                                oldest_pending_ms = excluded.oldest_pending_ms, last_error = excluded.last_error,
                                clock_offset_ms = excluded.clock_offset_ms, last_seen_ms = excluded.last_seen_ms,
                                via = excluded.via
                            WHERE excluded.last_seen_ms >= _heartbeats.last_seen_ms AND (excluded.via IS NULL
                                OR (_heartbeats.via IS excluded.via AND _heartbeats.city IS excluded.city))
                            """,
                        arguments: [
                            status.node.description, status.role, status.city, status.name, status.heartbeat.app,
                            status.heartbeat.backlog, status.heartbeat.oldestPendingMillis, status.heartbeat.lastError,
                            status.clockOffsetMillis, status.lastSeenMillis, via,
                        ])
                    if hub != nil, db.changesCount == 0 { skipped += 1 }
                }
                return skipped
            }
        } catch {
            throw Self.storageError(error)
        }
    }

    /// The statuses of the clients that synced here directly, seen after `millis` (what a hub relays).
    public func deviceStatuses(seenAfter millis: Int64) throws -> [DeviceStatus] {
        try read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM _heartbeats WHERE via IS NULL AND last_seen_ms > ? ORDER BY node",
                arguments: [millis]
            ).compactMap { row -> DeviceStatus? in
                guard let node = NodeID(hex: row["node"]) else { return nil }
                return DeviceStatus(
                    node: node, name: row["name"], role: row["role"], city: row["city"],
                    heartbeat: Heartbeat(
                        app: row["app"] ?? "", backlog: row["backlog"], oldestPendingMillis: row["oldest_pending_ms"],
                        lastError: row["last_error"]),
                    clockOffsetMillis: row["clock_offset_ms"], lastSeenMillis: row["last_seen_ms"])
            }
        }
    }
}

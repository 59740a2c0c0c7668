import GRDB

extension Replica {
    /// Saves what a client said of itself with its sync (the stale devices view reads it).
    public func recordStatus(_ status: DeviceStatus) throws {
        try recordStatuses([status], via: nil as NodeID?)
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

import Logging
import PostgresNIO
package import SyncCore

/// What central keeps for the admin beside the records: devices' statuses (`_heartbeats`) and the conflicts
/// hubs relay (`_history`), with the meaning of the SQLite replica's (`Replica+DeviceStatus`,
/// `Replica+RelayedConflicts`).
extension PostgresStore {
    /// Saves client statuses: a client's own with its sync (`via` nil), or those a hub relays (`via` the
    /// hub). A hub speaks only for the devices it serves: a relayed status is skipped, and counted in the
    /// result, when it names the hub itself, this server, a client that syncs here directly (it has a lease
    /// here), or a device whose status came from another hub or for another city; an older status never
    /// replaces a newer one (skipped too when relayed). Own statuses count nothing: the result is 0.
    ///
    /// One transaction, one statement per occurrence of a node: the statuses each node has first, then
    /// those it has second…, so that a node named twice is saved in the order given, as on SQLite.
    @discardableResult
    package func recordStatuses(_ statuses: [DeviceStatus], via hub: NodeID?) async throws -> Int {
        var skipped = 0
        var rounds: [[DeviceStatus]] = []
        var seen: [NodeID: Int] = [:]
        for status in statuses {
            if let hub, status.node == hub || status.node == nodeID {
                skipped += 1
                continue
            }
            let round = seen[status.node, default: 0]
            seen[status.node] = round + 1
            if round == rounds.count { rounds.append([]) }
            rounds[round].append(status)
        }
        guard !rounds.isEmpty else { return skipped }
        let via = hub?.description
        let written = try await database.withTransaction { [rounds] connection in
            var written = 0
            for round in rounds {
                let rows = try await connection.run(Self.upsertStatuses(round, via: via), logger: self.logger)
                for try await _ in rows { written += 1 }
            }
            return written
        }
        return hub == nil ? 0 : skipped + rounds.map(\.count).reduce(0, +) - written
    }

    /// Saves `statuses` (one per node) and returns a row for each one saved: those a hub relays only for
    /// nodes without a lease here, each only over an older status that came through the same hub for the
    /// same city; a client's own (`via` nil) over any older status. In node order: two transactions saving
    /// the same nodes lock their rows in one order, and never deadlock.
    private static func upsertStatuses(_ statuses: [DeviceStatus], via: String?) -> PostgresQuery {
        var writer = JSONWriter(capacity: statuses.count * 160)
        writer.byte(UInt8(ascii: "["))
        for (position, status) in statuses.enumerated() {
            if position > 0 { writer.byte(UInt8(ascii: ",")) }
            writer.raw("{\"node\":")
            writer.string(status.node.description)
            writer.raw(",\"role\":")
            writer.string(status.role)
            writer.raw(",\"city\":")
            writer.value(status.city.map(Value.text) ?? .null)
            writer.raw(",\"name\":")
            writer.string(status.name)
            writer.raw(",\"app\":")
            writer.string(status.heartbeat.app)
            writer.raw(",\"backlog\":")
            writer.int(status.heartbeat.backlog)
            writer.raw(",\"oldest_pending_ms\":")
            writer.value(status.heartbeat.oldestPendingMillis.map(Value.integer) ?? .null)
            writer.raw(",\"last_error\":")
            writer.value(status.heartbeat.lastError.map(Value.text) ?? .null)
            writer.raw(",\"clock_offset_ms\":")
            writer.int(status.clockOffsetMillis)
            writer.raw(",\"last_seen_ms\":")
            writer.int(status.lastSeenMillis)
            writer.byte(UInt8(ascii: "}"))
        }
        writer.byte(UInt8(ascii: "]"))
        let json = String(decoding: writer.bytes, as: UTF8.self)
        return """
            INSERT INTO _heartbeats (node, role, city, name, app, backlog, oldest_pending_ms, last_error,
                clock_offset_ms, last_seen_ms, via)
            SELECT node, role, city, name, app, backlog, oldest_pending_ms, last_error, clock_offset_ms,
                last_seen_ms, \(via)::text
            FROM jsonb_to_recordset(\(json)::jsonb) AS x(node text, role text, city text, name text, app text,
                backlog bigint, oldest_pending_ms bigint, last_error text, clock_offset_ms bigint,
                last_seen_ms bigint)
            WHERE \(via)::text IS NULL OR NOT EXISTS (SELECT 1 FROM _leases WHERE _leases.node = x.node)
            ORDER BY node COLLATE "C"
            ON CONFLICT (node) DO UPDATE SET role = excluded.role, city = excluded.city, name = excluded.name,
                app = excluded.app, backlog = excluded.backlog, oldest_pending_ms = excluded.oldest_pending_ms,
                last_error = excluded.last_error, clock_offset_ms = excluded.clock_offset_ms,
                last_seen_ms = excluded.last_seen_ms, via = excluded.via
            WHERE excluded.last_seen_ms >= _heartbeats.last_seen_ms AND (excluded.via IS NULL
                OR (_heartbeats.via IS NOT DISTINCT FROM excluded.via
                    AND _heartbeats.city IS NOT DISTINCT FROM excluded.city))
            RETURNING 1
            """
    }

    /// Keeps conflicts a hub relayed (a conflict already here is kept once); returns how many were new. With
    /// `scope`, only those about records of that scope stored here are kept: the others (another scope, a
    /// record not here, a collection without a scope field or unknown here) are left out.
    ///
    /// One statement: the entries in the order given (`_history`'s ids follow it, as a hub's relay reads
    /// them), the scope checked against each collection's table by id.
    package func recordConflicts(_ entries: [HistoryEntry], scope: String?) async throws -> Int {
        var binds = PostgresBindings()
        var kept = entries
        var checks: [String] = []
        if let scope {
            let named = Set(entries.map(\.collection))
            let scoped = layouts.compactMap { layout in
                layout.collection.scopeField.flatMap { named.contains(layout.name) ? (layout, $0) : nil }
            }
            let names = Set(scoped.map(\.0.name))
            kept.removeAll { !names.contains($0.collection) }
            binds.append(scope)
            for (layout, field) in scoped {
                binds.append(layout.name)
                checks.append(
                    "(x.collection = $\(binds.count) AND EXISTS (SELECT 1 FROM \(layout.table) AS r "
                        + "WHERE r.id = x.record_id AND r.\(quoted(field)) = $1))")
            }
        }
        guard !kept.isEmpty else { return 0 }
        binds.append(Self.historyJSON(kept))
        let sql = """
            INSERT INTO _history (collection, record_id, field, value, value_hlc, value_node, winner_hlc, winner_node)
            SELECT collection, record_id, field, value, value_hlc, value_node, winner_hlc, winner_node
            FROM jsonb_to_recordset($\(binds.count)::jsonb) AS x(ordinal bigint, collection text, record_id text,
                field text, value jsonb, value_hlc bigint, value_node bigint, winner_hlc bigint, winner_node bigint)
            \(checks.isEmpty ? "" : "WHERE " + checks.joined(separator: " OR "))
            ORDER BY ordinal
            ON CONFLICT (collection, record_id, field, value_hlc, value_node) DO NOTHING
            RETURNING 1
            """
        return try await database.withConnection { [binds] connection in
            var inserted = 0
            for try await _ in try await connection.run(
                PostgresQuery(unsafeSQL: sql, binds: binds), logger: self.logger)
            {
                inserted += 1
            }
            return inserted
        }
    }

    /// History entries as a JSON array of `_history` rows, each with its position in `entries` (the merge's
    /// flush and the relayed conflicts both write them so).
    static func historyJSON(_ entries: [HistoryEntry]) -> String {
        var writer = JSONWriter(capacity: entries.count * 176)
        writer.byte(UInt8(ascii: "["))
        for (position, entry) in entries.enumerated() {
            if position > 0 { writer.byte(UInt8(ascii: ",")) }
            writer.raw("{\"ordinal\":")
            writer.int(Int64(position))
            writer.raw(",\"collection\":")
            writer.string(entry.collection)
            writer.raw(",\"record_id\":")
            writer.string(entry.recordID)
            writer.raw(",\"field\":")
            writer.string(entry.field)
            writer.raw(",\"value\":")
            writer.value(entry.value)
            writer.raw(",\"value_hlc\":")
            writer.int(entry.stamp.hlc.storage)
            writer.raw(",\"value_node\":")
            writer.int(entry.stamp.node.rawValue)
            writer.raw(",\"winner_hlc\":")
            writer.int(entry.winner.hlc.storage)
            writer.raw(",\"winner_node\":")
            writer.int(entry.winner.node.rawValue)
            writer.byte(UInt8(ascii: "}"))
        }
        writer.byte(UInt8(ascii: "]"))
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}

import Logging
import PostgresNIO
package import SyncCore

/// A client's push on PostgreSQL: the SQLite replica's `apply(_:from:sender:scope:fromClient:…)`, in one
/// transaction (see ``SyncStore/apply(_:)``).
extension PostgresStore {
    /// Applies a client's push: its lease moved first (`.duplicateNode` or `.outOfOrder`: nothing applied, a
    /// duplicate remembered in a transaction of its own), its records merged with the checks of a client's
    /// records (scope, required fields, references, the domain's rules: ``PostgresRuleReads``), refused ones
    /// reported and kept for the admin, the sequences it took kept as the client's echo, the echo below its
    /// pull cursor pruned.
    package func apply(_ push: ClientPush) async throws -> ApplyReport {
        let plan = try BatchPlan(push.batch, schema: schema, sender: push.client, scope: push.scope)
        let peer = ClientPush.peerKey(client: push.client)
        do {
            return try await mergeInTransaction(
                push.batch, plan: plan, from: peer, scope: push.scope, sender: push.client, role: push.role,
                now: push.now
            ) { connection in
                if let lease = push.lease {
                    switch try await Self.moveLease(connection, lease, logger: self.logger) {
                    case .accepted: break
                    case .duplicate:
                        throw SyncError(.duplicateNode, "Two copies of node \(lease.node) sync with this server.")
                    case .outOfOrder: throw Replica.outOfOrder(lease.node)
                    }
                }
                // Before the feed's lock (the SQLite store prunes after recording the push's range): a
                // range this drops ends at or below the client's cursor base, so no reader of this client
                // would use it, whichever of the two the push then extends or starts.
                if let below = push.pruneEchoBelow {
                    try await connection.run(
                        "DELETE FROM _echo WHERE peer = \(peer) AND hi <= \(below)", logger: self.logger)
                }
            }.report
        } catch let error as SyncError where error.code == .duplicateNode {
            // Rolled back with the push: the finding is recorded in a transaction of its own.
            if let move = push.lease, try await moveLease(move) == .outOfOrder { throw Replica.outOfOrder(move.node) }
            throw error
        }
    }

    /// Keeps the refused records for the admin, once per version (its stamp); past a bound of open ones
    /// from one client, the push is refused whole (as the SQLite replica does).
    static func keepRefused(
        _ refusals: [Refusal], batch: ChangeBatch, source: String?, now: Int64, connection: PostgresConnection,
        logger: Logger
    ) async throws {
        var found: [RecordRef: (record: RecordChange, fields: [String])] = [:]
        for group in batch.collections {
            for record in group.records {
                found[RecordRef(collection: group.name, id: record.id)] = (record, group.fields)
            }
        }
        for refusal in refusals {
            let entry = found[RecordRef(collection: refusal.collection, id: refusal.id)]
            var json: String?
            if let entry {
                var writer = JSONWriter(capacity: 256)
                writer.fields(of: entry.record, names: entry.fields)
                json = String(decoding: writer.bytes, as: UTF8.self)
            }
            try await connection.run(
                """
                INSERT INTO _refused (collection, record_id, code, field, detail, record, hlc, node, source, at_ms)
                VALUES (\(refusal.collection), \(refusal.id), \(refusal.code.rawValue), \(refusal.field), \
                \(refusal.detail), \(json), \(entry?.record.stamp.hlc.storage ?? 0), \
                \(entry?.record.stamp.node.rawValue ?? 0), \(source), \(now))
                ON CONFLICT (collection, record_id, hlc, node) DO NOTHING
                """, logger: logger)
        }
        var waiting = 0
        let rows = try await connection.run(
            "SELECT count(*) FROM _refused WHERE source IS NOT DISTINCT FROM \(source) AND status = 'open'",
            logger: logger)
        for try await count in rows.decode(Int.self) { waiting = count }
        guard waiting <= Refusal.maxOpenPerSource else {
            throw SyncError(
                .tooLarge,
                "\(waiting) refused records of this client would wait for the admin (at most "
                    + "\(Refusal.maxOpenPerSource)); nothing of this push was applied. The admin lists them with "
                    + "'field admin refused list'.")
        }
    }
}

import Logging
import PostgresNIO
package import SyncCore

/// The nodes central knows, and the feed's head: what the server asks before it binds a token to a node
/// id, and what a health check shows. The meaning of the SQLite replica's (`Replica+Nodes`,
/// `Replica+Lease`).
extension PostgresStore {
    /// The feed's head: where a client that pulled everything stands (the sequence in `_meta`).
    package func head() async throws -> FeedCursor {
        try await database.withConnection { connection in
            let rows = try await connection.run("SELECT seq FROM _meta WHERE id = 1", logger: self.logger)
            for try await sequence in rows.decode(Int64.self) { return FeedCursor(sequence) }
            throw SyncError(.corruptReplica, "Central's _meta row is missing: run `sync-server migrate`.")
        }
    }

    /// Whether central has seen `node` at all: as itself (its id, or the one it had before), as a client
    /// that synced here (a lease, or echo ranges of its pushes), in a device status, in the history, or as
    /// the writer of any stored record or field.
    ///
    /// A server asks this before it binds a fresh token to a node id (DESIGN.md §8): an id seen here belongs
    /// to a device already. One statement, which scans the collections' tables and `_history` (once per new
    /// token, not per request), as on SQLite.
    package func hasSeen(_ node: NodeID) async throws -> Bool {
        if node == nodeID { return true }
        var binds = PostgresBindings()
        binds.append(node.rawValue)
        binds.append(node.description)
        binds.append(ClientPush.peerKey(client: node))
        var checks = [
            "SELECT 1 FROM _meta WHERE id = 1 AND (node_id = $1 OR previous_node_id = $1)",
            "SELECT 1 FROM _leases WHERE node = $2",
            "SELECT 1 FROM _heartbeats WHERE node = $2",
            "SELECT 1 FROM _echo WHERE peer = $3",
            "SELECT 1 FROM _history WHERE value_node = $1 OR winner_node = $1",
        ]
        checks += layouts.map { layout in
            layout.isProfile
                ? "SELECT 1 FROM \(layout.table) WHERE $1 = ANY(\"_node\")"
                : "SELECT 1 FROM \(layout.table) WHERE \"_node\"[1] = $1"
        }
        let sql = "SELECT " + checks.map { "EXISTS (\($0))" }.joined(separator: " OR ")
        return try await database.withConnection { [binds] connection in
            let rows = try await connection.run(PostgresQuery(unsafeSQL: sql, binds: binds), logger: self.logger)
            for try await seen in rows.decode(Bool.self) { return seen }
            return false
        }
    }

    /// Whether two copies of `node` were found syncing here (its lease records when).
    package func isDuplicated(_ node: NodeID) async throws -> Bool {
        try await database.withConnection { connection in
            let rows = try await connection.run(
                """
                SELECT EXISTS (SELECT 1 FROM _leases WHERE node = \(node.description) AND duplicate_ms IS NOT NULL)
                """, logger: self.logger)
            for try await duplicated in rows.decode(Bool.self) { return duplicated }
            return false
        }
    }
}

import PostgresNIO
package import SyncCore

/// The server's bearer tokens (`_tokens`): hashes, roles, cities, revocation, node binding. The SQL of the
/// table is here and nowhere else; each method means what ``SyncStore``'s of the same name means, as the
/// SQLite replica does it (`Replica+Tokens`).
extension PostgresStore {
    /// The token stored under `hash` (SHA-256 of the bearer token), with the stored hash.
    package func token(hash: [UInt8]) async throws -> StoredToken? {
        try await database.withConnection { connection in
            let rows = try await connection.run(
                "SELECT \(unescaped: Self.columns) FROM _tokens WHERE hash = \(ByteBuffer(bytes: hash))",
                logger: self.logger)
            for try await row in rows.decode(Self.Row.self) {
                guard let record = Self.record(row) else { return nil }
                return StoredToken(record: record, hash: Array(buffer: row.1))
            }
            return nil
        }
    }

    /// Stores a new token under `hash` (unbound, active: the record's node and revocation are not read).
    /// Throws `.storage` when its id or hash is already stored.
    package func addToken(_ token: TokenRecord, hash: [UInt8]) async throws {
        try await database.withConnection { connection in
            _ = try await connection.run(
                """
                INSERT INTO _tokens (id, hash, role, city, name, created_ms)
                VALUES (\(token.id), \(ByteBuffer(bytes: hash)), \(token.role.rawValue), \(token.city), \
                \(token.name), \(token.createdMillis))
                """, logger: self.logger)
        }
    }

    /// Every token, oldest first (by creation time, then id).
    package func tokens() async throws -> [TokenRecord] {
        try await database.withConnection { connection in
            let rows = try await connection.run(
                "SELECT \(unescaped: Self.columns) FROM _tokens ORDER BY created_ms, id COLLATE \"C\"",
                logger: self.logger)
            var records: [TokenRecord] = []
            for try await row in rows.decode(Self.Row.self) {
                if let record = Self.record(row) { records.append(record) }
            }
            return records
        }
    }

    /// Revokes the active tokens with this id or name at `now`; returns them, oldest first. Of two requests
    /// revoking one token at once, only the first returns it.
    package func revokeTokens(idOrName: String, now: Int64) async throws -> [TokenRecord] {
        try await database.withConnection { connection in
            let rows = try await connection.run(
                """
                WITH revoked AS (
                    UPDATE _tokens SET revoked_ms = \(now)
                    WHERE (id = \(idOrName) OR name = \(idOrName)) AND revoked_ms IS NULL
                    RETURNING \(unescaped: Self.columns)
                )
                SELECT \(unescaped: Self.columns) FROM revoked ORDER BY created_ms, id COLLATE "C"
                """, logger: self.logger)
            var records: [TokenRecord] = []
            for try await row in rows.decode(Self.Row.self) {
                if let record = Self.record(row) { records.append(record) }
            }
            return records
        }
    }

    /// The node a token is bound to, if it is.
    package func boundNode(token id: String) async throws -> NodeID? {
        try await database.withConnection { connection in
            try await Self.boundNode(token: id, on: connection, logger: self.logger)
        }
    }

    /// Binds a token to the node of its first sync; returns the bound node (the one it had, if it was
    /// bound), nil when another token holds `node`. Of two requests binding one node to two tokens at once,
    /// exactly one succeeds.
    package func bind(token id: String, to node: NodeID) async throws -> NodeID? {
        try await moveNode(token: id, from: nil, to: node)
    }

    /// Moves a token bound to `old` (found duplicated) to `new`, unless another token holds `new`; returns
    /// the bound node (unchanged when another request moved it first).
    package func rebind(token id: String, from old: NodeID, to new: NodeID) async throws -> NodeID? {
        try await moveNode(token: id, from: old, to: new)
    }

    /// Sets the token's node to `new` where it is `old` (nil: unbound) and no other token holds `new`, in
    /// one statement; returns the token's node after it.
    ///
    /// The `NOT EXISTS` reads the statement's snapshot: a concurrent statement binding `new` to another
    /// token is not seen there, and the unique constraint on `node` refuses the second of the two writes
    /// instead (the loser waits for the winner's commit, then gets `unique_violation`): its token keeps
    /// the node it had, as when `NOT EXISTS` finds the holder.
    private func moveNode(token id: String, from old: NodeID?, to new: NodeID) async throws -> NodeID? {
        let moved: PostgresQuery =
            if let old {
                """
                UPDATE _tokens SET node = \(new.description) WHERE id = \(id) AND node = \(old.description)
                    AND NOT EXISTS (SELECT 1 FROM _tokens WHERE node = \(new.description) AND id <> \(id))
                RETURNING node
                """
            } else {
                """
                UPDATE _tokens SET node = \(new.description) WHERE id = \(id) AND node IS NULL
                    AND NOT EXISTS (SELECT 1 FROM _tokens WHERE node = \(new.description) AND id <> \(id))
                RETURNING node
                """
            }
        return try await database.withConnection { connection in
            do {
                let rows = try await connection.run(moved, logger: self.logger)
                for try await node in rows.decode(String.self) { return NodeID(hex: node) }
            } catch let error as PSQLError
                where error.serverInfo?[.constraintName] == PostgresMigration.oneTokenPerNode
            {
                // Another token took `new` while this statement ran: it holds the node.
            }
            return try await Self.boundNode(token: id, on: connection, logger: self.logger)
        }
    }

    private static func boundNode(
        token id: String, on connection: PostgresConnection, logger: Logger
    ) async throws
        -> NodeID?
    {
        let rows = try await connection.run("SELECT node FROM _tokens WHERE id = \(id)", logger: logger)
        for try await node in rows.decode(String?.self) { return node.flatMap(NodeID.init(hex:)) }
        return nil
    }

    /// The columns a token is read from, in the order of ``Row``.
    private static let columns = "id, hash, role, city, name, node, created_ms, revoked_ms"
    private typealias Row = (String, ByteBuffer, String, String?, String, String?, Int64, Int64?)

    /// A token row, or nil for one this version cannot read (a role it does not know).
    private static func record(_ row: Row) -> TokenRecord? {
        guard let role = Principal.Role(rawValue: row.2) else { return nil }
        return TokenRecord(
            id: row.0, role: role, city: row.3, name: row.4, node: row.5.flatMap(NodeID.init(hex:)),
            createdMillis: row.6, revokedMillis: row.7)
    }
}

/// The `token` commands work on central's PostgreSQL database as on a replica file.
extension PostgresStore: SyncStore {}

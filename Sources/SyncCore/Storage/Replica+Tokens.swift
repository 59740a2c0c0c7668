import Foundation
import GRDB

/// The server's bearer tokens (`_tokens`): hashes, roles, cities, revocation, node binding. A server's
/// replica alone has the table (``prepareTokens()``); the SQL of it is here and nowhere else.
extension Replica {
    /// Creates the token table if it is missing.
    func prepareTokens() throws {
        try storage {
            try writer.write { db in
                try db.execute(
                    sql: """
                        CREATE TABLE IF NOT EXISTS _tokens (
                            id TEXT PRIMARY KEY NOT NULL,
                            hash BLOB NOT NULL UNIQUE,
                            role TEXT NOT NULL,
                            city TEXT,
                            name TEXT NOT NULL,
                            node TEXT,
                            created_ms INTEGER NOT NULL,
                            revoked_ms INTEGER
                        )
                        """)
            }
        }
    }

    func token(hash: [UInt8]) throws -> StoredToken? {
        try storage {
            try read { db in
                let row = try Row.fetchOne(db, sql: "SELECT * FROM _tokens WHERE hash = ?", arguments: [Data(hash)])
                guard let row, let stored = (row["hash"] as Data?).map(Array.init), let record = Self.token(row) else {
                    return nil
                }
                return StoredToken(record: record, hash: stored)
            }
        }
    }

    func addToken(_ token: TokenRecord, hash: [UInt8]) throws {
        try storage {
            try writer.write { db in
                try db.execute(
                    sql: "INSERT INTO _tokens(id, hash, role, city, name, created_ms) VALUES (?, ?, ?, ?, ?, ?)",
                    arguments: [
                        token.id, Data(hash), token.role.rawValue, token.city, token.name, token.createdMillis,
                    ])
            }
        }
    }

    func tokens() throws -> [TokenRecord] {
        try storage {
            try read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM _tokens ORDER BY created_ms, id").compactMap(Self.token)
            }
        }
    }

    func revokeTokens(idOrName: String, now: Int64) throws -> [TokenRecord] {
        try storage {
            try writer.write { db in
                let rows = try Row.fetchAll(
                    db, sql: "SELECT * FROM _tokens WHERE (id = ? OR name = ?) AND revoked_ms IS NULL",
                    arguments: [idOrName, idOrName])
                try db.execute(
                    sql: "UPDATE _tokens SET revoked_ms = ? WHERE (id = ? OR name = ?) AND revoked_ms IS NULL",
                    arguments: [now, idOrName, idOrName])
                return rows.compactMap(Self.token).map {
                    var record = $0
                    record.revokedMillis = now
                    return record
                }
            }
        }
    }

    func boundNode(token id: String) throws -> NodeID? {
        try storage {
            try read { db in
                try String.fetchOne(db, sql: "SELECT node FROM _tokens WHERE id = ?", arguments: [id])
                    .flatMap(NodeID.init(hex:))
            }
        }
    }

    func bind(token id: String, to node: NodeID) throws -> NodeID? {
        try storage {
            try writer.write { db in
                try db.execute(
                    sql: """
                        UPDATE _tokens SET node = ?1 WHERE id = ?2 AND node IS NULL
                            AND NOT EXISTS (SELECT 1 FROM _tokens WHERE node = ?1 AND id != ?2)
                        """,
                    arguments: [node.description, id])
                return try String.fetchOne(db, sql: "SELECT node FROM _tokens WHERE id = ?", arguments: [id])
                    .flatMap(NodeID.init(hex:))
            }
        }
    }

    func rebind(token id: String, from old: NodeID, to new: NodeID) throws -> NodeID? {
        try storage {
            try writer.write { db in
                try db.execute(
                    sql: """
                        UPDATE _tokens SET node = ?1 WHERE id = ?2 AND node = ?3
                            AND NOT EXISTS (SELECT 1 FROM _tokens WHERE node = ?1 AND id != ?2)
                        """,
                    arguments: [new.description, id, old.description])
                return try String.fetchOne(db, sql: "SELECT node FROM _tokens WHERE id = ?", arguments: [id])
                    .flatMap(NodeID.init(hex:))
            }
        }
    }

    /// A token row, or nil for one this version cannot read.
    private static func token(_ row: Row) -> TokenRecord? {
        guard let role = Principal.Role(rawValue: row["role"]) else { return nil }
        return TokenRecord(
            id: row["id"], role: role, city: row["city"], name: row["name"],
            node: (row["node"] as String?).flatMap(NodeID.init(hex:)), createdMillis: row["created_ms"],
            revokedMillis: row["revoked_ms"])
    }

    /// SQLite failures become `SyncError`s (disk full → 507, not a bare 500).
    func storage<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw Self.storageError(error)
        }
    }
}

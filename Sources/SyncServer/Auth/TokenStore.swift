import Crypto
import Foundation
import GRDB
package import SyncCore

/// A token as listed (never the token itself: only its hash is stored).
package struct TokenRecord: Sendable, Equatable {
    var id: String
    var role: Principal.Role
    var city: String?
    var name: String
    /// The node the token is bound to (its first sync), hex.
    var node: String?
    var createdMillis: Int64
    var revokedMillis: Int64?

    var principal: Principal { Principal(role: role, city: city, name: name) }

    /// `"role":…,"city":…,"name":…,"node":…` (never the token), for JSON answers and listings.
    func writeFields(into writer: inout JSONWriter) {
        writer.raw("\"role\":")
        writer.string(role.rawValue)
        writer.raw(",\"city\":")
        if let city { writer.string(city) } else { writer.raw("null") }
        writer.raw(",\"name\":")
        writer.string(name)
        writer.raw(",\"node\":")
        if let node { writer.string(node) } else { writer.raw("null") }
    }
}

/// Bearer tokens in the replica's file: SHA-256 hashes, roles, cities, revocation, node binding.
///
/// Every request reads the table, so a token revoked by `sync-server token revoke` (another process) is
/// refused on its very next request, and after a restart.
package struct TokenStore: Sendable {
    let database: any DatabaseWriter
    /// The lookup every request makes, on a connection of its own (nil for a file it cannot open so).
    private let lookup: TokenLookup?

    package init(replica: Replica) throws {
        database = replica.database
        do {
            try database.write { db in
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
        } catch {
            throw SyncError(.storage, "Cannot prepare the token table: \(error)")
        }
        lookup = replica.path.flatMap(TokenLookup.init(path:))
    }

    static func hash(_ token: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(token.utf8)))
    }

    /// Creates a token and returns it (the only time it is seen) with its record.
    package func issue(
        role: Principal.Role, city: String?, name: String, now: Int64
    ) throws -> (token: String, record: TokenRecord) {
        var random = SystemRandomNumberGenerator()
        let secret = (0..<24).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &random)) }.joined()
        let token = "fs1_" + secret
        let digest = Self.hash(token)
        let id = "tok_" + digest.prefix(5).map { String(format: "%02x", $0) }.joined()
        let record = TokenRecord(
            id: id, role: role, city: city, name: name, node: nil, createdMillis: now, revokedMillis: nil)
        try database.write { db in
            try db.execute(
                sql: "INSERT INTO _tokens(id, hash, role, city, name, created_ms) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [id, Data(digest), role.rawValue, city, name, now])
        }
        return (token, record)
    }

    func list() throws -> [TokenRecord] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM _tokens ORDER BY created_ms, id").compactMap(Self.record)
        }
    }

    /// Revokes by id or by name; returns the tokens revoked.
    func revoke(_ idOrName: String, now: Int64) throws -> [TokenRecord] {
        try database.write { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT * FROM _tokens WHERE (id = ? OR name = ?) AND revoked_ms IS NULL",
                arguments: [idOrName, idOrName])
            try db.execute(
                sql: "UPDATE _tokens SET revoked_ms = ? WHERE (id = ? OR name = ?) AND revoked_ms IS NULL",
                arguments: [now, idOrName, idOrName])
            return rows.compactMap(Self.record).map {
                var record = $0
                record.revokedMillis = now
                return record
            }
        }
    }

    enum Verdict: Sendable {
        case valid(TokenRecord)
        case unknown
        case revoked
    }

    /// ``authenticate(_:)`` without blocking work: the lookup on its own connection (microseconds), or
    /// nil when the caller must take the pooled path on a blocking thread.
    func quickVerdict(_ token: String) -> Verdict? {
        let digest = Self.hash(token)
        switch lookup?.find(digest) {
        case nil, .failed?: return nil
        case .missing?: return .unknown
        case .found(let stored, let record)?: return Self.verdict(digest, stored: stored, record: record)
        }
    }

    /// Looks a presented token up by its hash and compares the hashes in constant time.
    func authenticate(_ token: String) throws -> Verdict {
        let digest = Self.hash(token)
        let row = try guarded {
            try database.read { db in
                try Row.fetchOne(db, sql: "SELECT * FROM _tokens WHERE hash = ?", arguments: [Data(digest)])
            }
        }
        guard let row, let stored = (row["hash"] as Data?).map(Array.init) else { return .unknown }
        return Self.verdict(digest, stored: stored, record: Self.record(row))
    }

    /// The verdict on a presented token's digest and the row found under it.
    private static func verdict(_ digest: [UInt8], stored: [UInt8], record: TokenRecord?) -> Verdict {
        guard constantTimeEqual(stored, digest), let record else { return .unknown }
        return record.revokedMillis == nil ? .valid(record) : .revoked
    }

    /// The node a token is bound to, if it is.
    func boundNode(_ id: String) throws -> String? {
        try guarded {
            try database.read { db in
                try String.fetchOne(db, sql: "SELECT node FROM _tokens WHERE id = ?", arguments: [id])
            }
        }
    }

    /// Binds a device or hub token to the node that first syncs with it; returns the bound node, or nil
    /// when another token holds `node` already (a node id belongs to one token: DESIGN.md §8).
    func bind(_ id: String, node: NodeID) throws -> String? {
        try guarded {
            try database.write { db in
                try db.execute(
                    sql: """
                        UPDATE _tokens SET node = ?1 WHERE id = ?2 AND node IS NULL
                            AND NOT EXISTS (SELECT 1 FROM _tokens WHERE node = ?1 AND id != ?2)
                        """,
                    arguments: [node.description, id])
                return try String.fetchOne(db, sql: "SELECT node FROM _tokens WHERE id = ?", arguments: [id])
            }
        }
    }

    /// Moves a token bound to `old` (found duplicated) to `new`, unless another token holds `new`; returns
    /// the bound node (unchanged when another request moved it first).
    func rebind(_ id: String, from old: NodeID, to new: NodeID) throws -> String? {
        try guarded {
            try database.write { db in
                try db.execute(
                    sql: """
                        UPDATE _tokens SET node = ?1 WHERE id = ?2 AND node = ?3
                            AND NOT EXISTS (SELECT 1 FROM _tokens WHERE node = ?1 AND id != ?2)
                        """,
                    arguments: [new.description, id, old.description])
                return try String.fetchOne(db, sql: "SELECT node FROM _tokens WHERE id = ?", arguments: [id])
            }
        }
    }

    /// SQLite failures become `SyncError`s (disk full → 507, not a bare 500).
    private func guarded<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw Replica.storageError(error)
        }
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    private static func record(_ row: Row) -> TokenRecord? {
        guard let role = Principal.Role(rawValue: row["role"]) else { return nil }
        return TokenRecord(
            id: row["id"], role: role, city: row["city"], name: row["name"], node: row["node"],
            createdMillis: row["created_ms"], revokedMillis: row["revoked_ms"])
    }
}

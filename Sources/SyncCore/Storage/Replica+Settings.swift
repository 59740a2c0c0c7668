import GRDB

extension Replica {
    /// A node's own setting (its server, its volunteer name…): local, never synced.
    public func setting(_ key: String) throws -> String? {
        try read { db in try String.fetchOne(db, sql: "SELECT value FROM _settings WHERE key = ?", arguments: [key]) }
    }

    /// Saves settings in one transaction (nil removes a key).
    public func saveSettings(_ values: [String: String?]) throws {
        do {
            try writer.write { db in
                for (key, value) in values {
                    if let value {
                        try db.execute(
                            sql: """
                                INSERT INTO _settings(key, value) VALUES (?, ?)
                                ON CONFLICT(key) DO UPDATE SET value = excluded.value
                                """,
                            arguments: [key, value])
                    } else {
                        try db.execute(sql: "DELETE FROM _settings WHERE key = ?", arguments: [key])
                    }
                }
            }
        } catch {
            throw Self.storageError(error)
        }
    }
}

extension Replica {
    /// The settings whose key starts with `prefix`, by key.
    public func settings(prefix: String) throws -> [String: String] {
        try read { db in try Self.settings(db, prefix: prefix) }
    }

    static func settings(_ db: Database, prefix: String) throws -> [String: String] {
        var found: [String: String] = [:]
        for row in try Row.fetchAll(
            db, sql: "SELECT key, value FROM _settings WHERE substr(key, 1, length(?1)) = ?1", arguments: [prefix])
        {
            found[row[0]] = row[1]
        }
        return found
    }
}

extension ReplicaTransaction {
    /// The settings whose key starts with `prefix`, by key, as this transaction sees them.
    public func settings(prefix: String) throws -> [String: String] {
        try Replica.settings(session.db, prefix: prefix)
    }

    /// Saves a setting in this transaction: it commits with the transaction's records, or not at all.
    public func saveSetting(_ key: String, _ value: String?) throws {
        if let value {
            try session.db.execute(
                sql: """
                    INSERT INTO _settings(key, value) VALUES (?, ?)
                    ON CONFLICT(key) DO UPDATE SET value = excluded.value
                    """,
                arguments: [key, value])
        } else {
            try session.db.execute(sql: "DELETE FROM _settings WHERE key = ?", arguments: [key])
        }
    }
}

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

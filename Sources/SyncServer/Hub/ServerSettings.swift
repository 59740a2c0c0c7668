import GRDB
import SyncCore

/// Settings a server keeps in its replica file: the hub's upstream, for `sync-server sync-upstream`.
struct ServerSettings {
    let database: any DatabaseWriter

    init(replica: Replica) throws {
        database = replica.database
        try database.write { db in
            try db.execute(sql: "CREATE TABLE IF NOT EXISTS _settings (key TEXT PRIMARY KEY NOT NULL, value TEXT)")
        }
    }

    func saveUpstream(_ upstream: UpstreamConfiguration) throws {
        try database.write { db in
            for (key, value) in [
                ("upstream_url", upstream.url), ("upstream_token_file", upstream.tokenFile),
                ("upstream_ca_file", upstream.caFile),
            ] {
                try db.execute(
                    sql:
                        "INSERT INTO _settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    arguments: [key, value])
            }
        }
    }

    /// The upstream last given to `serve`, if any.
    func upstream() throws -> UpstreamConfiguration? {
        try database.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT key, value FROM _settings")
            var values: [String: String] = [:]
            for row in rows { values[row["key"]] = row["value"] }
            guard let url = values["upstream_url"], let file = values["upstream_token_file"] else { return nil }
            return UpstreamConfiguration(
                url: url, tokenFile: file, schedule: .manual, caFile: values["upstream_ca_file"])
        }
    }
}

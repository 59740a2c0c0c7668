import Foundation

extension PostgresCluster {
    /// Runs `sql` in `database` with `psql` (as the superuser, over TCP) and returns what it printed: one
    /// line a row, columns separated by `|`, no header (`--no-align --tuples-only`).
    ///
    /// Throws ``PostgresClusterError`` with psql's message when the statement fails or the server does not
    /// answer. Blocking: psql runs to its end on the calling thread.
    package func query(_ sql: String, database: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: programs.psql)
        process.arguments = [
            "--no-psqlrc", "--no-align", "--tuples-only", "--quiet", "--set", "ON_ERROR_STOP=1", "--host",
            "127.0.0.1", "--port", String(port), "--username", user, "--dbname", database, "--command", sql,
        ]
        // Without the caller's PG… variables (PGHOST or PGOPTIONS would change what psql does).
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PG") }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PostgresClusterError(
                "psql failed (status \(process.terminationStatus)) on '\(sql)': "
                    + String(decoding: stderr, as: UTF8.self))
        }
        return String(decoding: stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The integer `sql` selects (one row, one column), as ``query(_:database:)`` runs it.
    package func integer(_ sql: String, database: String) throws -> Int {
        let text = try query(sql, database: database)
        guard let value = Int(text) else {
            throw PostgresClusterError("'\(sql)' gave '\(text)', not one integer.")
        }
        return value
    }
}

import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A throwaway PostgreSQL cluster for tests and benchmarks: `initdb` into a temporary folder, a server on a
/// free TCP port of 127.0.0.1 (and a Unix socket in that folder), databases made on demand, and the folder
/// removed by ``stop()``.
///
/// Settings favour speed over durability (`fsync`, `synchronous_commit` and `full_page_writes` off): a
/// power cut loses the cluster, which a test does not care about; ``kill()`` (SIGKILL to the server and its
/// processes) still recovers on ``start()``, as after a crash. Every client authenticates as the superuser
/// ``user`` without a password (`trust`), over TCP on loopback only.
///
/// PostgreSQL refuses to run as root, and tests here and in CI run as root: then `initdb`, `pg_ctl` and the
/// server run as the user `nobody` (through `setpriv`, or `runuser`), and the folder belongs to it.
/// Clients (`psql`, the tests' connections) run as whoever runs the tests.
///
/// When PostgreSQL is not installed, ``start(in:)`` throws an error that names the `apt-get` command that
/// installs it: a test that needs PostgreSQL fails, it never skips.
package final class PostgresCluster: Sendable {
    /// The cluster's folder (the data directory is `data/` inside it, the server's log `server.log`, the
    /// Unix socket `.s.PGSQL.<port>`).
    package let folder: String
    /// The TCP port on 127.0.0.1; the same across ``restart()``.
    package let port: Int
    /// The superuser every client connects as, without a password.
    package let user = "postgres"
    let programs: PostgresPrograms

    private init(folder: String, port: Int, programs: PostgresPrograms) {
        self.folder = folder
        self.port = port
        self.programs = programs
    }

    /// The data directory.
    package var dataDirectory: String { folder + "/data" }
    /// The folder of the server's Unix socket (libpq's `host` for a socket).
    package var socketDirectory: String { folder }

    /// Creates a cluster in a new temporary folder and starts its server; returns once it accepts
    /// connections.
    ///
    /// Throws ``PostgresClusterError`` when PostgreSQL is not installed (saying what to install), when
    /// `initdb` or the server fails (with their output), or when no free port could be had.
    package static func start(in parent: String? = nil) async throws -> PostgresCluster {
        let programs = try PostgresPrograms.find()
        let folder = try PostgresPrograms.makeFolder(in: parent)
        do {
            try programs.giveAway(folder)
            try await programs.run(
                programs.initdb,
                [
                    "--pgdata", folder + "/data", "--username", "postgres", "--auth", "trust", "--encoding", "UTF8",
                    "--locale", "C", "--no-instructions",
                ], in: folder, asServer: true)
            // A port can be taken between its choice and the server's start: then another one.
            var attempt = 0
            while true {
                attempt += 1
                let cluster = PostgresCluster(folder: folder, port: try freePort(), programs: programs)
                try cluster.writeSettings()
                do {
                    try await cluster.start()
                    return cluster
                } catch let error as PostgresClusterError where attempt < 3 && error.message.contains("in use") {
                    continue
                }
            }
        } catch {
            try? FileManager.default.removeItem(atPath: folder)
            throw error
        }
    }

    /// Starts the server on its folder and port (after ``stopServer()`` or ``kill()``: a killed server
    /// recovers first); returns once it accepts connections.
    package func start() async throws {
        try await programs.run(
            programs.pgCtl,
            ["--pgdata", dataDirectory, "--log", folder + "/server.log", "--wait", "--timeout", "60", "start"],
            in: folder, asServer: true, log: folder + "/server.log")
    }

    /// Stops the server (`pg_ctl stop -m fast`: sessions are ended, then a clean shutdown) and keeps the
    /// folder, for ``start()``.
    package func stopServer() async throws {
        try await programs.run(
            programs.pgCtl, ["--pgdata", dataDirectory, "--mode", "fast", "--wait", "--timeout", "60", "stop"],
            in: folder, asServer: true, log: folder + "/server.log")
    }

    /// Stops the server and starts it again on the same folder and port.
    package func restart() async throws {
        try await stopServer()
        try await start()
    }

    /// Kills the server and every process it started with SIGKILL, as a crash would, and returns once
    /// they are gone. ``start()`` recovers it.
    package func kill() throws {
        guard let pid = PostgresPrograms.serverPID(dataDirectory: dataDirectory) else {
            throw PostgresClusterError("No server runs in \(dataDirectory) (no postmaster.pid): nothing to kill.")
        }
        try PostgresPrograms.killTree(pid)
        // The dead server's pid stays taken until init reaps its zombie (seconds, here), and a new server
        // refuses to start while the pid its lock files name exists: no server runs, so they go.
        for lock in [dataDirectory + "/postmaster.pid", socketDirectory + "/.s.PGSQL.\(port).lock"] {
            try? FileManager.default.removeItem(atPath: lock)
        }
    }

    /// Stops the server (killing it when a clean stop fails) and removes the folder. Call it once the
    /// tests are done; the cluster is unusable after it.
    package func stop() async throws {
        do {
            if PostgresPrograms.serverPID(dataDirectory: dataDirectory) != nil { try await stopServer() }
        } catch {
            try? kill()
        }
        try FileManager.default.removeItem(atPath: folder)
    }

    /// Creates a database and returns its name: a test on its own database stays independent of the others.
    package func createDatabase(named name: String? = nil) async throws -> String {
        let name = name ?? "test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        guard !name.isEmpty, name.count < 64,
            name.utf8.allSatisfy({ $0 == UInt8(ascii: "_") || isalnum(Int32($0)) != 0 })
        else { throw PostgresClusterError("'\(name)' is not a plain database name: letters, digits and _ only.") }
        try await programs.run(
            programs.psql,
            [
                "--no-psqlrc", "--quiet", "--set", "ON_ERROR_STOP=1", "--host", "127.0.0.1", "--port", String(port),
                "--username", user, "--dbname", "postgres", "--command",
                // An operator's cluster sorts text by a language's rules (en_US, fr_FR), not by bytes as SQLite
                // does: so do the tests' databases, and an ORDER BY without COLLATE "C" shows.
                "CREATE DATABASE \"\(name)\" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'fr-FR' LOCALE 'C'",
            ], in: folder, asServer: false)
        return name
    }

    /// A URL for `database`: `postgres://postgres@127.0.0.1:PORT/DATABASE?sslmode=disable`.
    package func url(database: String) -> String {
        "postgres://\(user)@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }

    /// Appends the cluster's settings to `postgresql.conf` (a later line wins over an earlier one).
    private func writeSettings() throws {
        let settings = """

            # FieldSyncTesting: loopback only, fast and not durable.
            listen_addresses = '127.0.0.1'
            port = \(port)
            unix_socket_directories = '\(socketDirectory)'
            max_connections = 200
            fsync = off
            synchronous_commit = off
            full_page_writes = off

            """
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: dataDirectory + "/postgresql.conf"))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(settings.utf8))
    }
}

/// What went wrong with a test cluster, and what to do about it.
package struct PostgresClusterError: Error, CustomStringConvertible {
    package var message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}

/// A free TCP port on 127.0.0.1, as the kernel hands one out (free when asked; taken again only by a race).
package func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw PostgresClusterError("socket() failed: \(String(cString: strerror(errno))).") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
        }
    }
    guard bound else { throw PostgresClusterError("No free port on 127.0.0.1: \(String(cString: strerror(errno))).") }
    return Int(UInt16(bigEndian: address.sin_port))
}

import FieldDomain
import FieldSyncTesting
import Foundation
import SyncClient
import SyncCore

/// Where central runs in an end-to-end test.
enum CentralKind: String, CaseIterable, Sendable, CustomStringConvertible {
    /// One `sync-server serve --db` on a replica file.
    case sqlite
    /// A throwaway PostgreSQL cluster behind several `sync-server serve --store` instances.
    case postgres

    var description: String { rawValue }
}

/// Central in an end-to-end test, started by ``withCentral(_:instances:directory:_:)`` (which stops it):
/// its instances (one on SQLite; on PostgreSQL as many as asked, sharing one database), the token commands
/// on its store, and counts read from it.
final class TestCentral: @unchecked Sendable {
    // @unchecked: `instances` changes only on the test's own thread (a restart), between the clients' syncs.
    enum Storage {
        case replica(path: String)
        case postgres(cluster: PostgresCluster, database: String, url: String)
    }

    let storage: Storage
    /// The running `sync-server serve` processes: hub or device number `i` syncs with `instances[i % count]`.
    private(set) var instances: [ServerProcess] = []

    /// Connections each instance opens to PostgreSQL at most: the cluster allows 200 in all, and every
    /// PostgreSQL suite runs its own instances.
    static let poolSize = 4

    private init(storage: Storage) { self.storage = storage }

    /// The URL of the instance that client number `index` syncs with (round robin).
    func url(_ index: Int = 0) -> String { instances[index % instances.count].url }

    /// `--db FILE` or `--store URL`: the store's arguments for sync-server's commands.
    var storeArguments: [String] {
        switch storage {
        case .replica(let path): ["--db", path]
        case .postgres(_, _, let url): ["--store", url]
        }
    }

    /// Starts one more instance on `port` (0: a free one), for a restart on the port an instance had.
    @discardableResult
    func startInstance(port: Int = 0) throws -> ServerProcess {
        let server: ServerProcess
        switch storage {
        case .replica(let path): server = try ServerProcess(database: path, port: port)
        case .postgres(_, _, let url):
            server = try ServerProcess(store: url, arguments: ["--store-pool-size", "\(Self.poolSize)"], port: port)
        }
        instances.append(server)
        return server
    }

    /// Replaces instance `index` (crashed or stopped) with a new one on the same port.
    @discardableResult
    func restartInstance(_ index: Int) throws -> ServerProcess {
        let old = instances[index]
        old.stop()
        let new = try startInstance(port: old.port)
        instances[index] = instances.removeLast()
        return new
    }

    /// Issues a token on central's store into a new file; returns the token and the file.
    func issueToken(role: String, city: String?, name: String, directory: URL) throws -> (token: String, file: String) {
        let file = directory.appendingPathComponent("\(name).token").path
        var arguments = ["token", "issue"] + storeArguments + ["--role", role, "--name", name, "--out", file]
        if let city { arguments += ["--city", city] }
        let result = try run(Binaries.syncServer, arguments)
        guard result.status == 0 else { throw ServerProcess.ServerError.didNotStart(result.stderr) }
        let token = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        return (token, file)
    }

    /// The integer `sql` selects from central's store (`SELECT count(*) FROM families`: the records' tables
    /// have the same names and columns on both stores).
    func count(_ sql: String) throws -> Int {
        switch storage {
        case .replica(let path):
            let replica = try Replica(path: path, schema: .fieldSync, logger: quietLogger)
            return try replica.read { db in try Int.fetchOne(db, sql: sql) ?? -1 }
        case .postgres(let cluster, let database, _):
            return try cluster.integer(sql, database: database)
        }
    }

    /// Central's PostgreSQL cluster (a test of PostgreSQL's restart); nil on SQLite.
    var cluster: PostgresCluster? {
        if case .postgres(let cluster, _, _) = storage { return cluster }
        return nil
    }

    /// Starts central: on SQLite one instance on `directory/central.db`; on PostgreSQL a cluster, a
    /// database migrated once, and `instances` instances on it.
    static func start(_ kind: CentralKind, instances: Int, directory: URL) async throws -> TestCentral {
        switch kind {
        case .sqlite:
            let central = TestCentral(storage: .replica(path: directory.appendingPathComponent("central.db").path))
            try central.startInstance()
            return central
        case .postgres:
            let cluster = try await PostgresCluster.start()
            do {
                let database = try await cluster.createDatabase()
                let central = TestCentral(
                    storage: .postgres(cluster: cluster, database: database, url: cluster.url(database: database)))
                let migrated = try run(Binaries.syncServer, ["migrate"] + central.storeArguments)
                guard migrated.status == 0 else { throw ServerProcess.ServerError.didNotStart(migrated.stderr) }
                for _ in 0..<instances { try central.startInstance() }
                return central
            } catch {
                try? await cluster.stop()
                throw error
            }
        }
    }

    /// Stops every instance, then the cluster (which removes its folder).
    func stop() async {
        for server in instances { server.stop() }
        if let cluster { try? await cluster.stop() }
    }
}

/// Runs `body` with central started as `kind` (on PostgreSQL behind `instances` instances), and stops
/// central and its cluster whether `body` returns or throws.
func withCentral<T>(
    _ kind: CentralKind, instances: Int = 2, directory: URL, _ body: (TestCentral) async throws -> T
) async throws -> T {
    let central = try await TestCentral.start(kind, instances: instances, directory: directory)
    do {
        let result = try await body(central)
        await central.stop()
        return result
    } catch {
        await central.stop()
        throw error
    }
}

extension ServerProcess {
    /// The sum of the samples in this server's `/metrics` whose line starts with `prefix`: a metric's name
    /// (`fieldsync_syncs_total`, every label), or its name and labels (`fieldsync_errors_total{type="unavailable"}`).
    func metric(_ prefix: String) throws -> Double {
        let answer = try CurlTransport(
            configuration: ClientConfiguration(serverURL: url, token: ""), logger: quietLogger
        ).raw(method: "GET", path: "/metrics", headers: [], body: nil)
        guard answer.status == 200 else { throw ServerError.didNotStart("GET /metrics answered \(answer.status)") }
        return String(decoding: answer.body, as: UTF8.self).split(separator: "\n").reduce(0) { sum, line in
            guard line.hasPrefix(prefix), let value = line.split(separator: " ").last.flatMap({ Double($0) }) else {
                return sum
            }
            return sum + value
        }
    }
}

/// Blocking work (a sync) on a thread of its own, never on the cooperative pool; its result by ``wait()``.
final class Background<T: Sendable>: @unchecked Sendable {
    // @unchecked: `result` is written once, before `done` is signalled, and read only after it.
    private var result: Result<T, any Error>?
    private let done = DispatchSemaphore(value: 0)

    init(_ work: @escaping @Sendable () throws -> T) {
        Thread.detachNewThread {
            self.result = Result { try work() }
            self.done.signal()
        }
    }

    /// Waits until the work has ended (blocking the caller), and returns what it returned or threw.
    func wait() -> Result<T, any Error> {
        done.wait()
        done.signal()
        return result!
    }
}

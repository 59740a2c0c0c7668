import CentralPostgres
import Crypto
import FieldDomain
import FieldSyncTesting
import Foundation
import GRDB
import PostgresNIO
import SyncClient
import SyncCore

/// One central under the nightly load: SQLite (`sync-server serve --db`) or PostgreSQL behind one or more
/// `sync-server serve --store` instances sharing one database. Set up, loaded, measured, stopped.
struct NightlyCentral {
    enum Kind: Sendable {
        case sqlite
        case postgres(instances: Int)

        var name: String {
            switch self {
            case .sqlite: "sqlite"
            case .postgres(let instances): "pg\(instances)"
            }
        }
    }

    /// What the measured night (the last) showed, and the store after it.
    struct Figures {
        var name: String
        var night: NightlyLoad.Night
        /// Each instance's peak resident memory (VmHWM), MiB.
        var peakMiB: [Double]
        /// CPU seconds spent during the measured night: the load generator (this process), the instances,
        /// PostgreSQL's processes.
        var cpu: (load: Double, servers: Double, postgres: Double)
        /// The store's size (bytes: `pg_database_size`, or the SQLite file and its WAL) once the families are
        /// in, and after the nights.
        var sizeAfterSeed: Int64
        var sizeAfter: Int64
        var deliveriesStored: Int
        /// The statements that took PostgreSQL's time in the measured night (with --pg-statements).
        var statements: [String] = []
    }

    let kind: Kind
    let load: NightlyLoad
    let programme: NightlyLoad.Programme
    let work: [NightlyLoad.DeviceWork]
    let cluster: PostgresCluster?
    let root: URL
    let statements: Bool

    func run(say: (String) -> Void) async throws -> Figures {
        let store: Store
        var servers: [BenchServer] = []
        defer { for server in servers { server.stop() } }
        switch kind {
        case .sqlite:
            let path = root.appendingPathComponent("central-\(UUID().uuidString).db").path
            store = .sqlite(path)
            // Issued into the file before its server opens it (the replica closed again).
            let tokens = try await NightlyTokens.issue(
                into: try ReplicaStore(try SyncWorkload.replica(path)), load: load)
            servers = [try BenchServer(store: ["--db", path], extra: ["--max-connections-per-address", "0"])]
            return try await measure(store, tokens, servers.map(\.url), servers, say)
        case .postgres(let instances):
            guard let cluster else { throw BenchError("no PostgreSQL cluster") }
            let url = cluster.url(database: try await cluster.createDatabase())
            store = .postgres(url)
            let tokens = try await store.withDatabase { database in
                if statements {
                    try await database.withConnection { connection in
                        _ = try await connection.query(
                            "CREATE EXTENSION IF NOT EXISTS pg_stat_statements", logger: benchLogger)
                    }
                }
                return try await NightlyTokens.issue(
                    into: try await PostgresStore(database, schema: .fieldSync), load: load)
            }
            for _ in 0..<instances {
                servers.append(
                    try BenchServer(store: ["--store", url], extra: ["--max-connections-per-address", "0"]))
            }
            return try await measure(store, tokens, servers.map(\.url), servers, say)
        }
    }

    private func measure(
        _ store: Store, _ tokens: NightlyTokens, _ urls: [String], _ servers: [BenchServer], _ say: (String) -> Void
    ) async throws -> Figures {
        // The admin registers the programme (the open campaign, the families) with the real client.
        say("\(kind.name): the admin pushes \(load.familiesPerCity * NightlyLoad.cities.count) families …")
        var configuration = ClientConfiguration(serverURL: urls[0], token: tokens.admin)
        configuration.attempts = 2
        let session = SyncSession(
            replica: programme.admin, transport: CurlTransport(configuration: configuration, logger: benchLogger),
            peer: "central-\(UUID().uuidString)", logger: benchLogger)
        let seeded = try await offPool { try session.run() }
        guard seeded.pushed == load.familiesPerCity * NightlyLoad.cities.count + 1, seeded.refused == 0 else {
            throw BenchError("the admin's push: \(seeded.pushed) records, \(seeded.refused) refused")
        }
        let sizeAfterSeed = try await store.size()
        // Each hub takes its city's families: its cursor is where its city's devices start (they hold them).
        let hubs = NightlyLoad.cities.enumerated().map { index, city in
            NightlyClient(node: NodeID.random(), token: tokens.hubs[index], city: city)
        }
        for (index, hub) in hubs.enumerated() {
            let first = try await offPool { try hub.sync(server: urls[index % urls.count]) }
            guard first.pulled >= load.familiesPerCity else {
                throw BenchError("hub of \(hub.city) pulled \(first.pulled) records, fewer than its families")
            }
        }
        let devices = work.enumerated().map { index, device in
            NightlyClient(
                node: device.node, token: tokens.devices[index], city: device.city,
                pulled: hubs[NightlyLoad.cities.firstIndex(of: device.city)!].pullCursor, pages: device.pages)
        }
        var measured = NightlyLoad.Night()
        var cpu = (load: 0.0, servers: 0.0, postgres: 0.0)
        for night in 0..<load.nights {
            let last = night == load.nights - 1
            say("\(kind.name): night \(night + 1)/\(load.nights)\(last ? " (measured)" : " (warm-up)") …")
            if last, statements, case .postgres = store { try await store.resetStatements() }
            let before = (cpuSeconds(pid: "self"), servers.reduce(0) { $0 + $1.cpuSeconds }, postgresCPU())
            let result = try await offPool { load.night(devices: devices, hubs: hubs, servers: urls, night: night) }
            if let failure = result.failures.first {
                throw BenchError("\(result.failures.count) syncs failed in night \(night + 1), first: \(failure)")
            }
            guard result.refused == 0, result.pushed == load.devices * load.deliveries else {
                throw BenchError(
                    "night \(night + 1): \(result.pushed) of \(load.devices * load.deliveries) deliveries pushed, "
                        + "\(result.refused) refused: a load that is refused measures nothing")
            }
            if last {
                measured = result
                cpu = (
                    cpuSeconds(pid: "self") - before.0, servers.reduce(0) { $0 + $1.cpuSeconds } - before.1,
                    postgresCPU() - before.2
                )
            }
        }
        let stored = try await store.deliveries()
        guard stored == load.devices * load.deliveries * load.nights else {
            throw BenchError("central holds \(stored) deliveries, not \(load.devices * load.deliveries * load.nights)")
        }
        return Figures(
            name: kind.name, night: measured, peakMiB: servers.map(\.peakMiB), cpu: cpu, sizeAfterSeed: sizeAfterSeed,
            sizeAfter: try await store.size(), deliveriesStored: stored,
            statements: statements && store.isPostgres ? try await store.topStatements() : [])
    }

    /// CPU seconds of PostgreSQL's server and its processes (those that ended included), 0 without one.
    private func postgresCPU() -> Double {
        guard let cluster, case .postgres = kind,
            let text = try? String(contentsOfFile: cluster.dataDirectory + "/postmaster.pid", encoding: .utf8),
            let postmaster = text.split(separator: "\n").first.map(String.init)
        else { return 0 }
        var total = cpuSeconds(pid: postmaster, children: true)
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        where entry.allSatisfy(\.isNumber) {
            if parentPID(entry) == postmaster { total += cpuSeconds(pid: entry) }
        }
        return total
    }

    /// Central's store, as the benchmark reads it (beside the instances).
    enum Store {
        case sqlite(String)
        case postgres(String)

        var isPostgres: Bool {
            if case .postgres = self { true } else { false }
        }

        func withDatabase<T: Sendable>(_ body: (CentralPostgres.PostgresDatabase) async throws -> T) async throws -> T {
            guard case .postgres(let url) = self else { throw BenchError("not PostgreSQL") }
            var configuration = try PostgresStoreConfiguration(url: url)
            configuration.poolSize = 1
            return try await CentralPostgres.PostgresDatabase.withDatabase(configuration, logger: benchLogger, body)
        }

        /// Bytes the store takes: `pg_database_size`, or the SQLite file and its WAL.
        func size() async throws -> Int64 {
            switch self {
            case .sqlite(let path):
                return ["", "-wal"].reduce(Int64(0)) { total, suffix in
                    let attributes = try? FileManager.default.attributesOfItem(atPath: path + suffix)
                    return total + ((attributes?[.size] as? NSNumber)?.int64Value ?? 0)
                }
            case .postgres:
                return try await single("SELECT pg_database_size(current_database())")
            }
        }

        func deliveries() async throws -> Int {
            switch self {
            case .sqlite(let path):
                var configuration = GRDB.Configuration()
                configuration.readonly = true
                return try await DatabaseQueue(path: path, configuration: configuration).read { db in
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM deliveries") ?? 0
                }
            case .postgres:
                return Int(try await single("SELECT count(*) FROM deliveries"))
            }
        }

        private func single(_ sql: String) async throws -> Int64 {
            try await withDatabase { database in
                try await database.withConnection { connection in
                    let rows = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: benchLogger)
                    for try await value in rows.decode(Int64.self) { return value }
                    return 0
                }
            }
        }

        func resetStatements() async throws {
            _ = try await single("SELECT count(*) FROM (SELECT pg_stat_statements_reset()) AS reset")
        }

        /// The ten statements of most total time: calls, total and mean ms, the text's start.
        func topStatements() async throws -> [String] {
            try await withDatabase { database in
                try await database.withConnection { connection in
                    let rows = try await connection.query(
                        """
                        SELECT calls, total_exec_time, mean_exec_time, left(regexp_replace(query, '\\s+', ' ', 'g'), 110)
                        FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 10
                        """, logger: benchLogger)
                    var lines: [String] = []
                    for try await (calls, total, mean, text) in rows.decode((Int64, Double, Double, String).self) {
                        lines.append("\(calls) calls, \(Int(total)) ms, \(format2(mean)) ms each: \(text)")
                    }
                    return lines
                }
            }
        }
    }
}

/// The night's tokens, issued into central's store as `sync-server token issue` does (a random secret,
/// kept as its SHA-256): one admin, a hub per city, a device token per device of its city.
struct NightlyTokens {
    var admin = ""
    var hubs: [String] = []
    var devices: [String] = []

    static func issue(into store: any TokenStore, load: NightlyLoad) async throws -> NightlyTokens {
        let now = Int64(SystemClock().nowMillis())
        func make(_ role: Principal.Role, _ city: String?, _ name: String) async throws -> String {
            var random = SystemRandomNumberGenerator()
            let token =
                "fs1_"
                + (0..<24).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &random)) }.joined()
            let hash = Array(SHA256.hash(data: Array(token.utf8)))
            let id = "tok_" + hash.prefix(5).map { String(format: "%02x", $0) }.joined()
            try await store.addToken(
                TokenRecord(id: id, role: role, city: city, name: name, createdMillis: now), hash: hash)
            return token
        }
        var tokens = NightlyTokens()
        tokens.admin = try await make(.admin, nil, "admin")
        for city in NightlyLoad.cities { tokens.hubs.append(try await make(.hub, city, "hub-\(city)")) }
        for index in 0..<load.devices {
            let city = NightlyLoad.cities[index % NightlyLoad.cities.count]
            tokens.devices.append(try await make(.device, city, "device-\(index)"))
        }
        return tokens
    }
}

/// The parent of a process (field 4 of `/proc/<pid>/stat`), nil when it is gone.
func parentPID(_ pid: String) -> String? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return nil }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    return fields.count > 1 ? String(fields[1]) : nil
}

/// Runs blocking work (libcurl, threads waited for) on a thread of its own, off Swift's cooperative pool.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

import FieldDomain
import Foundation
import SyncCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `kill -9` of the real processes at random points of real syncs: a `field sync` process (pushing a
/// volunteer's deliveries, or pulling them on another device) and the `sync-server` that serves it, each
/// killed after a seeded random delay within the sync's measured duration, then restarted; in the end
/// every file passes `PRAGMA integrity_check` and the three replicas hold exactly what was logged.
///
/// `FIELDSYNC_KILLS` sets the number of kills (default 100, half of the clients, half of the server);
/// `FIELDSYNC_SEED` replays a run.
@Suite("Crashes", .serialized)
struct CrashTests {
    static let seed: UInt64 = ProcessInfo.processInfo.environment["FIELDSYNC_SEED"].flatMap { UInt64($0) } ?? 20_261_202
    static let kills: Int = ProcessInfo.processInfo.environment["FIELDSYNC_KILLS"].flatMap { Int($0) } ?? 100

    enum Target: String { case client, server }

    /// What the kills did.
    struct Tally {
        var client = 0
        var server = 0
        /// Kills that found the `field sync` process still running.
        var duringSync = 0
        /// Kills after which part, but not all, of the sync's records had arrived (client kills, server kills).
        var midTransfer = 0
        var midTransferOfServer = 0
        var clientResumed = 0
    }

    /// Registers families, logs deliveries and edits earlier families on a device's replica file, the way
    /// `field family add`, `field deliver` and `field family edit` do; returns what was logged.
    static func work(
        _ path: String, round: Int, families: Int, deliveriesEach: Int, edits: Int,
        generator: inout SplitMix64
    ) throws -> Int {
        var configuration = ReplicaConfiguration()
        configuration.durability = .normal
        let replica = try Replica(path: path, schema: .fieldSync, configuration: configuration, logger: quietLogger)
        let earlier = try replica.read { db in try String.fetchAll(db, sql: "SELECT id FROM families ORDER BY id") }
        let edited = earlier.isEmpty ? [] : (0..<edits).map { _ in earlier.randomElement(using: &generator)! }
        return try replica.write { tx in
            for f in 0..<families {
                let id = try tx.addFamily(
                    NewFamily(
                        city: "Tunis", reference: "R\(round)-\(f)", headName: "عائلة \(round) \(f)", phone: "0600\(f)"))
                for d in 0..<deliveriesEach {
                    _ = try tx.logDelivery(
                        NewDelivery(
                            city: "Tunis", family: id, item: d % 2 == 0 ? .foodPack : .connectivityPack,
                            quantity: 1 + d % 3, campaign: "winter", deliveredAt: 1_780_000_000_000 + UInt64(round),
                            volunteer: "writer"))
                }
            }
            for (index, id) in edited.enumerated() {
                try tx.editFamily(
                    id, ["phone": .text("+216 \(round) \(index)"), "household_size": .integer(Int64(round % 9 + 1))])
            }
            return families * deliveriesEach
        }
    }

    @Test func killedClientsAndServersLoseAndDuplicateNothing() throws {
        let clock = ContinuousClock()
        let began = clock.now
        var generator = SplitMix64(seed: Self.seed)
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let central = directory.appendingPathComponent("central.db").path
        let devices = [
            directory.appendingPathComponent("writer.db").path, directory.appendingPathComponent("reader.db").path,
        ]
        let tokens = try ["writer", "reader"].map {
            try issueToken(db: central, role: "device", city: "Tunis", name: $0, directory: directory)
        }
        let port = try freeLoopbackPort()
        func startServer() throws -> ServerProcess {
            // Durability full, as on central; no rate limit in the way of a client restarted 100 times. The
            // same port each time (the clients know it): a few tries in case the port is briefly held.
            for attempt in 1... {
                do {
                    return try ServerProcess(
                        database: central, arguments: ["--rate-limit", "100000"], port: port, durability: "full")
                } catch  where attempt < 5 {
                    usleep(200_000)
                }
            }
            fatalError("unreachable")
        }
        var server = try startServer()
        defer { server.stop() }
        for (device, token) in zip(devices, tokens) {
            let enrolled = try run(
                Binaries.field, ["init", "--server", server.url, "--token-file", token.file, "--db", device])
            #expect(enrolled.status == 0, "\(enrolled.stderr)")
        }
        let batch = 10
        let perRound = 30
        func sync(_ device: String) throws -> FieldProcess {
            try FieldProcess(["sync", "--db", device, "--batch-size", "\(batch)", "--json"])
        }
        // Measure how long one round's sync takes, both ways, to spread the kills over it.
        var logged = try Self.work(
            devices[0], round: 0, families: perRound, deliveriesEach: 5, edits: 0, generator: &generator)
        var duration = [0.0, 0.0]
        for index in 0..<2 {
            let started = Date()
            let result = try sync(devices[index]).finish()
            #expect(result.status == 0, "seed \(Self.seed): \(result.stderr)")
            duration[index] = Date().timeIntervalSince(started)
        }
        let measured = duration
        // And how long a `field` process takes to start and open its replica: kills before that hit no sync.
        let startup = try (0..<3).map { _ in
            let started = Date()
            _ = try FieldProcess(["status", "--db", devices[1]]).finish()
            return Date().timeIntervalSince(started)
        }.min()!
        var tally = Tally()
        var round = 0
        var failures: [String] = []
        while tally.client + tally.server < Self.kills {
            round += 1
            // A writer's day: new families and their deliveries, and edits of earlier families.
            logged += try Self.work(
                devices[0], round: round, families: perRound, deliveriesEach: 5, edits: 10, generator: &generator)
            for index in 0..<2 where tally.client + tally.server < Self.kills {
                let kill = tally.client + tally.server
                let target: Target = (kill + kill / 2) % 2 == 0 ? .client : .server
                // Half the kills fall anywhere from the process's start to the end of a sync of this round's
                // size; the other half once records have started to arrive, anywhere in the next half sync.
                let afterProgress = Bool.random(using: &generator)
                let delay =
                    afterProgress
                    ? Double.random(in: 0...(duration[index] / 2), using: &generator)
                    : Double.random(in: min(startup, duration[index])...duration[index], using: &generator)
                let side = index == 0 ? central : devices[1]
                let before = try ReplicaFile.count(side, "deliveries")
                // The writer's records arrive at central; the reader gets what central has.
                let goal = index == 0 ? logged : try ReplicaFile.count(central, "deliveries")
                let process = try sync(devices[index])
                if afterProgress {
                    let watch = try ReplicaFile.open(side)
                    let deadline = Date().addingTimeInterval(max(2, duration[index] * 10))
                    while process.isRunning, Date() < deadline,
                        try watch.read({ db in try Int.fetchOne(db, sql: "SELECT count(*) FROM deliveries") }) == before
                    {
                        usleep(1_000)
                    }
                }
                usleep(UInt32(delay * 1_000_000))
                let during: Bool
                switch target {
                case .client:
                    tally.client += 1
                    during = process.crash()
                    if during { tally.duringSync += 1 }
                    let integrity = try ReplicaFile.integrity(devices[index])
                    if integrity != "ok" { failures.append("round \(round): client file after kill: \(integrity)") }
                case .server:
                    tally.server += 1
                    during = process.isRunning
                    if during { tally.duringSync += 1 }
                    server.crash()
                    let integrity = try ReplicaFile.integrity(central)
                    if integrity != "ok" { failures.append("round \(round): server file after kill: \(integrity)") }
                }
                // The machine's pace changes under other work (the first sync measured while it was busy
                // took 5 times the later ones): a kill that came after the sync ended shortens the next
                // delays, one during a sync lengthens them a little, never below the process's start.
                duration[index] = max(startup * 1.5, duration[index] * (during ? 1.05 : 0.7))
                let after = try ReplicaFile.count(side, "deliveries")
                if before < after, after < goal {
                    tally.midTransfer += 1
                    if target == .server { tally.midTransferOfServer += 1 }
                }
                if target == .server {
                    server = try startServer()
                    // The client retries with backoff and goes on against the restarted server.
                    if process.finish().status == 0 { tally.clientResumed += 1 }
                }
            }
            #expect(failures.isEmpty, "seed \(Self.seed): \(failures)")
            if !failures.isEmpty { return }
        }
        // Everyone online, nobody killed: sync to the end.
        for device in devices + [devices[0]] {
            let result = try sync(device).finish()
            #expect(result.status == 0, "seed \(Self.seed): \(result.stderr)")
        }
        server.stop()
        for path in [central] + devices {
            #expect(try ReplicaFile.integrity(path) == "ok", "seed \(Self.seed): \(path)")
            #expect(try ReplicaFile.count(path, "deliveries") == logged, "seed \(Self.seed): \(path)")
            #expect(try ReplicaFile.count(path, "families") == (round + 1) * perRound, "seed \(Self.seed): \(path)")
            for table in ["deliveries", "families"] {
                #expect(try ReplicaFile.duplicateIDs(path, table) == 0, "seed \(Self.seed): \(path) \(table)")
            }
        }
        // Every value and every stamp: the writer's replica is the truth.
        let dumps = try ([devices[0], central, devices[1]]).map {
            try Replica(path: $0, schema: .fieldSync, logger: quietLogger).dump()
        }
        #expect(dumps[1] == dumps[0], "seed \(Self.seed): central differs from the writer")
        #expect(dumps[2] == dumps[0], "seed \(Self.seed): the reader differs from the writer")
        // The kills landed in syncs, and a good share of them mid-transfer.
        #expect(tally.client >= Self.kills / 2 && tally.server >= Self.kills / 2)
        // (Bounds with room for a loaded machine.)
        #expect(tally.duringSync >= Self.kills * 2 / 5, "seed \(Self.seed): \(tally)")
        #expect(tally.midTransfer >= Self.kills / 5, "seed \(Self.seed): \(tally)")
        #expect(tally.midTransferOfServer >= Self.kills / 20, "seed \(Self.seed): \(tally)")
        print(
            "crash test: seed \(Self.seed), \(tally.client) client and \(tally.server) server kills over \(round) rounds, "
                + "\(tally.duringSync) during a sync, \(tally.midTransfer) mid-transfer (\(tally.midTransferOfServer) of the server), "
                + "\(tally.clientResumed) clients resumed after a server restart; \(logged) deliveries; "
                + "start \(Int(startup * 1000)) ms, sync durations \(measured.map { Int($0 * 1000) }) ms at first, "
                + "\(duration.map { Int($0 * 1000) }) ms at the end; \(clock.now - began)"
        )
    }
}

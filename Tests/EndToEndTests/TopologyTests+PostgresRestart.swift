import FieldDomain
import Foundation
import SyncClient
import SyncCore
import Testing

extension TopologyTests {
    /// Central on PostgreSQL behind two instances; four devices of two cities log and sync in a loop, two
    /// with each instance, while PostgreSQL stops and starts again. Meanwhile both instances answer 503
    /// with `Retry-After` (`/healthz` too), every sync completes (the client waits and retries), and in the
    /// end central holds every record and each city's devices hold the same rows.
    @Test func syncsCompleteAcrossAPostgresRestart() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await withCentral(.postgres, directory: directory) { central in
            try await checkRestartDuringSyncs(central: central, directory: directory)
        }
    }

    private func checkRestartDuringSyncs(central: TestCentral, directory: URL) async throws {
        let cluster = try #require(central.cluster)
        var devices: [TestDevice] = []
        for (index, (city, name)) in [("Tunis", "t0"), ("Tunis", "t1"), ("Sfax", "s0"), ("Sfax", "s1")].enumerated() {
            let token = try central.issueToken(role: "device", city: city, name: name, directory: directory)
            // The client's settings (from 0.5 s, doubling, at least a 503's Retry-After), with 8 tries and
            // 5 s at most between them: a sync outlasts an outage of 15 s and more.
            devices.append(
                try TestDevice(
                    name: name, city: city, directory: directory, server: central.url(index), token: token.token,
                    attempts: 8, backoffSeconds: 0.5, maxBackoffSeconds: 5))
        }
        let loop = SyncLoop(clients: devices.count)
        let clients = devices.map { device in Background { try loop.run(device) } }
        do {
            // Every device syncs a few times, then PostgreSQL stops; while it is down, the instances say so.
            try await loop.waitForRounds(2)
            try await cluster.stopServer()
            for server in central.instances {
                let health = try CurlTransport(
                    configuration: ClientConfiguration(serverURL: server.url, token: ""), logger: quietLogger
                ).raw(method: "GET", path: "/healthz", headers: [], body: nil)
                #expect(health.status == 503, "\(String(decoding: health.body, as: UTF8.self))")
                #expect(health.retryAfterSeconds == 2)
            }
            try await Task.sleep(for: .seconds(2))
            try await cluster.start()
            try await loop.waitForRounds(loop.fewestRounds + 3)
        } catch {
            loop.stop()
            for client in clients { _ = client.wait() }
            throw error
        }
        loop.stop()
        var written = 0
        for (device, client) in zip(devices, clients) {
            switch client.wait() {
            case .success(let families): written += families
            case .failure(let error): Issue.record("\(device.name): a sync failed: \(error)")
            }
        }
        // The clients met the outage: 503s were answered, and every sync still completed.
        var unavailable = 0.0
        for server in central.instances {
            unavailable += try server.metric("fieldsync_errors_total{type=\"unavailable\"}")
        }
        #expect(unavailable > 0)

        // Two more rounds bring each device the others' last writes.
        for _ in 0..<2 { for device in devices { try device.sync() } }
        #expect(try central.count("SELECT count(*) FROM families") == written)
        #expect(try central.count("SELECT count(*) FROM deliveries") == written * 2)
        for city in ["Tunis", "Sfax"] {
            let ofCity = devices.filter { $0.city == city }
            let inCentral = try central.count("SELECT count(*) FROM families WHERE city = '\(city)'")
            #expect(try ofCity[0].count("families") == inCentral)
            #expect(try ofCity[0].cities("families") == [city])
            #expect(try ofCity[0].replica.dump() == ofCity[1].replica.dump(), "\(city)")
        }
    }
}

/// Devices logging and syncing in a loop, each on its own thread, until ``stop()``: how many rounds each
/// has done, and the families each wrote.
final class SyncLoop: @unchecked Sendable {
    // @unchecked: `rounds`, `failed` and `stopped` are only touched under `lock`.
    private let lock = NSLock()
    private let clients: Int
    private var rounds: [String: Int] = [:]
    private var failed: [String] = []
    private var stopped = false

    struct Stalled: Error, CustomStringConvertible {
        var description: String
    }

    init(clients: Int) { self.clients = clients }

    /// Logs 3 families with 2 deliveries each, then syncs, until stopped or a sync fails (thrown); returns
    /// the families written.
    func run(_ device: TestDevice) throws -> Int {
        var round = 0
        let (name, city) = (device.name, device.city)
        do {
            while !lock.withLock({ stopped }) {
                try device.replica.write { tx in
                    for f in 0..<3 {
                        let family = try tx.addFamily(
                            NewFamily(city: city, reference: "\(name)-\(round)-\(f)", headName: "\(name) \(round) \(f)")
                        )
                        for d in 0..<2 {
                            _ = try tx.logDelivery(
                                NewDelivery(
                                    city: city, family: family, item: d == 0 ? .foodPack : .internetRecharge,
                                    quantity: 1, campaign: "winter", deliveredAt: 1_780_000_000_000, volunteer: name))
                        }
                    }
                }
                try device.sync()
                round += 1
                usleep(20_000)  // a volunteer does not sync back to back: the machine stays for the servers
                lock.withLock { rounds[name] = round }
            }
        } catch {
            lock.withLock { failed.append(name) }
            throw error
        }
        return round * 3
    }

    /// The rounds of the device that has done the fewest (0 until each has done one).
    var fewestRounds: Int { lock.withLock { rounds.count < clients ? 0 : rounds.values.min() ?? 0 } }

    /// Waits until each device has done `count` rounds; throws when one has failed, or after 120 s.
    func waitForRounds(_ count: Int) async throws {
        let deadline = Date().addingTimeInterval(120)
        while fewestRounds < count {
            if let failed = lock.withLock({ failed.first }) { throw Stalled(description: "\(failed)'s sync failed") }
            guard Date() < deadline else { throw Stalled(description: "\(fewestRounds) rounds in 120 s") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    func stop() { lock.withLock { stopped = true } }
}

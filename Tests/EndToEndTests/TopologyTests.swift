import FieldDomain
import Foundation
import SyncClient
import SyncCore
import Testing

/// Real `sync-server` processes on loopback and the real libcurl client: devices → hubs → central → back.
/// Central runs on SQLite, or on PostgreSQL behind two instances (hub number `i` syncs with instance `i`).
/// One suite, run one test at a time: the PostgreSQL tests here each start a cluster.
@Suite("End to end", .serialized)
struct TopologyTests {
    @Test(arguments: CentralKind.allCases)
    func threeDevicesTwoCitiesTwoHubsAndCentralConverge(central kind: CentralKind) async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await withCentral(kind, directory: directory) { central in
            try checkTopology(central: central, directory: directory)
        }
    }

    private func checkTopology(central: TestCentral, directory: URL) throws {
        let admin = try central.issueToken(role: "admin", city: nil, name: "admin", directory: directory)
        var hubs: [String: (server: ServerProcess, db: String)] = [:]
        var devices: [TestDevice] = []
        for (hubIndex, (city, deviceCount)) in [("Tunis", 2), ("Sfax", 1)].enumerated() {
            let hubDB = directory.appendingPathComponent("hub-\(city).db").path
            let hubToken = try central.issueToken(role: "hub", city: city, name: "hub-\(city)", directory: directory)
            var deviceTokens: [String] = []
            for index in 0..<deviceCount {
                deviceTokens.append(
                    try issueToken(
                        db: hubDB, role: "device", city: city, name: "\(city)-\(index)", directory: directory
                    ).token)
            }
            let hub = try ServerProcess(
                database: hubDB,
                arguments: ["--upstream", central.url(hubIndex), "--upstream-token-file", hubToken.file])
            hubs[city] = (hub, hubDB)
            for (index, token) in deviceTokens.enumerated() {
                devices.append(
                    try TestDevice(
                        name: "\(city)-\(index)", city: city, directory: directory, server: hub.url, token: token))
            }
        }
        defer { for hub in hubs.values { hub.server.stop() } }
        // The admin sets an entitlement rule at central: it must reach every device.
        let adminDevice = try TestDevice(
            name: "admin", city: "-", directory: directory, server: central.url(), token: admin.token)
        try adminDevice.replica.write { tx in
            _ = try tx.create("entitlements", values: ["item": "food_pack", "campaign": "winter", "max_per_family": 1])
        }
        try adminDevice.sync()
        // Volunteers work offline, then sync with their hub; hubs run their nightly sync now; then again.
        for (index, device) in devices.enumerated() { try device.work(families: 15 + index, deliveriesEach: 3) }
        for device in devices { try device.sync() }
        func syncUpstream(_ city: String) throws {
            let result = try run(Binaries.syncServer, ["sync-upstream", "--db", hubs[city]!.db, "--json"])
            #expect(result.status == 0, "\(result.stderr)")
        }
        for city in hubs.keys { try syncUpstream(city) }
        for device in devices { try device.sync() }
        for city in hubs.keys { try syncUpstream(city) }
        let expectedFamilies = devices.indices.reduce(0) { $0 + 15 + $1 }
        #expect(try central.count("SELECT count(*) FROM families") == expectedFamilies)
        #expect(try central.count("SELECT count(*) FROM deliveries") == expectedFamilies * 3)
        for (city, hub) in hubs {
            let hubReplica = try Replica(path: hub.db, schema: .fieldSync, logger: quietLogger)
            let hubDump = try hubReplica.dump()
            for device in devices where device.city == city {
                // Every replica of a city ends with the same rows; none holds another city's.
                #expect(try device.replica.dump() == hubDump, "\(device.name)")
                #expect(try device.cities("families") == [city])
                #expect(try device.cities("deliveries") == [city])
                #expect(try device.count("entitlements") == 1)
            }
            let centralCity = try central.count("SELECT count(*) FROM families WHERE city = '\(city)'")
            #expect(
                try hubReplica.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM families") } == centralCity)
        }
        // Each hub synced with its own instance (on SQLite, the one), the admin with the first: what reached
        // the other hub went through the shared store.
        for (index, server) in central.instances.enumerated() {
            #expect(try server.metric("fieldsync_syncs_total{role=\"hub\"}") > 0, "instance \(index)")
        }
        // A sync with nothing to do: one round trip, under 1 KB.
        let idle = try devices[0].sync()
        #expect(idle.roundTrips == 1 && idle.pushed == 0 && idle.pulled == 0)
        #expect(idle.bytesSent + idle.bytesReceived < 1024, "\(idle.bytesSent) + \(idle.bytesReceived) bytes")
        // The server said it takes zstd-fs1 request bodies (Accept-Encoding in its answers): the client uses it.
        #expect(devices[0].transport.requestCoding == .zstdDictionary)
        // Logs never carry tokens (the whole logs: each server stopped first).
        for server in central.instances + hubs.values.map(\.server) {
            server.stop()
            #expect(!server.logText.contains("fs1_"))
        }
    }
}

import FieldDomain
import Foundation
import SyncCore
import Testing

extension TopologyTests {
    /// Central on PostgreSQL behind two instances; a device pushes thousands of records to instance A, and
    /// A is killed with SIGKILL while the push is in flight (some pages committed, others not). The device
    /// completes against instance B; A restarts on its port. Central holds every record once, and fresh
    /// devices pulling the city from either instance get each record exactly once, with the same values.
    @Test func anInstanceKilledMidPushLosesAndDuplicatesNothing() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await withCentral(.postgres, directory: directory) { central in
            try checkCrashMidPush(central: central, directory: directory)
        }
    }

    private func checkCrashMidPush(central: TestCentral, directory: URL) throws {
        let families = 4000
        let total = families * 2  // a delivery each
        let batchSize = 100
        func device(_ name: String, instance: Int) throws -> TestDevice {
            let token = try central.issueToken(role: "device", city: "Tunis", name: name, directory: directory)
            return try TestDevice(
                name: name, city: "Tunis", directory: directory, server: central.url(instance), token: token.token)
        }
        let pusher = try device("pusher", instance: 0)
        try pusher.work(families: families, deliveriesEach: 1)
        let stored = "SELECT (SELECT count(*) FROM families) + (SELECT count(*) FROM deliveries)"

        // The push runs on a thread of its own; A dies once a quarter of it is in.
        let push = Background { try pusher.sync(batchSize: batchSize) }
        let deadline = Date().addingTimeInterval(60)
        while try central.count(stored) < total / 4, Date() < deadline { usleep(5_000) }
        central.instances[0].crash()
        let atCrash = try central.count(stored)
        #expect(atCrash >= total / 4 && atCrash < total, "\(atCrash) of \(total) records in when A died")
        #expect(throws: (any Error).self, "the push to A ended with A") { try push.wait().get() }

        // The device completes against B: it sends again at most the pages A had not answered.
        let resumed = try pusher.syncing(with: central.url(1)).sync(batchSize: batchSize)
        #expect(resumed.pushed > 0 && resumed.pushed <= total - atCrash + 2 * batchSize, "\(resumed.pushed)")
        try central.restartInstance(0)

        // Every record once at central, no value displaced by a record sent twice (no history).
        #expect(try central.count("SELECT count(*) FROM families") == families)
        #expect(try central.count("SELECT count(DISTINCT id) FROM families") == families)
        #expect(try central.count("SELECT count(*) FROM deliveries") == families)
        #expect(try central.count("SELECT count(DISTINCT id) FROM deliveries") == families)
        #expect(try central.count("SELECT count(*) FROM _history") == 0)
        // Fresh devices pull the city, one from the restarted A, one from B: each record exactly once.
        let expected = try pusher.replica.dump()
        for instance in [0, 1] {
            let fresh = try device("fresh-\(instance)", instance: instance)
            let pulled = try fresh.sync(batchSize: batchSize)
            #expect(pulled.pulled == total, "instance \(instance)")
            #expect(try fresh.count("families") == families && fresh.count("deliveries") == families)
            #expect(try fresh.replica.dump() == expected, "instance \(instance)")
        }
        #expect(try central.instances[0].metric("fieldsync_syncs_total") > 0)
    }
}

import Foundation
import SyncCore
import Testing

/// Defects volunteers reported in `field`, each checked end to end the way they met it.
@Suite("field CLI, reported defects", .serialized)
struct FieldCLIReportedTests {
    @Test func statusAndHeartbeatCountOnlyThisDevicesChangesNotYetAcknowledged() throws {
        let setup = try FieldCLITests.setUp()
        defer {
            setup.server.stop()
            try? FileManager.default.removeItem(at: setup.directory)
        }
        let hub = setup.directory.appendingPathComponent("hub.db").path
        let other = try issueToken(db: hub, role: "device", city: "Tunis", name: "karim", directory: setup.directory)
        let karim = try TestDevice(
            name: "karim", city: "Tunis", directory: setup.directory, server: setup.server.url, token: other.token)
        try karim.work(families: 30, deliveriesEach: 1)
        try karim.sync()
        func backlogAtTheHub() throws -> [Int] {
            let report = try run(Binaries.field, ["report", "--db", hub, "--json"])
            let object = try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any]
            let devices = object?["devices"] as? [[String: Any]] ?? []
            return devices.filter { $0["name"] as? String == "amina" }.compactMap { $0["backlog"] as? Int }
        }
        // Records pulled are not changes of this device: a sync that only pulled leaves nothing pending.
        let pulled = try #require(try setup.fieldJSON(["sync"]) as? [String: Any])
        #expect(pulled["pulled"] as? Int == 60 && pulled["pushed"] as? Int == 0)
        #expect((try setup.fieldJSON(["status"]) as? [String: Any])?["pending"] as? Int == 0)
        // The next sync's heartbeat says so to the hub's devices view.
        #expect(try setup.field(["sync"]).status == 0)
        #expect(try backlogAtTheHub() == [0])
        // Its own change is pending until the server has it; the sync that sends it reports none left.
        #expect(try setup.field(["family", "add", "--reference", "TUN-1", "--head", "Fatma"]).status == 0)
        #expect((try setup.fieldJSON(["status"]) as? [String: Any])?["pending"] as? Int == 1)
        try karim.work(families: 5, deliveriesEach: 0)
        try karim.sync()
        let both = try #require(try setup.fieldJSON(["sync"]) as? [String: Any])
        #expect(both["pushed"] as? Int == 1 && both["pulled"] as? Int == 5)
        #expect((try setup.fieldJSON(["status"]) as? [String: Any])?["pending"] as? Int == 0)
        #expect(try backlogAtTheHub() == [0])
    }
}

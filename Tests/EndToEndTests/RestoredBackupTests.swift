import FieldDomain
import Foundation
import SyncClient
import SyncCore
import Testing

/// A phone restored from another phone's backup, against the real server: the copy is caught, takes its
/// own node id, and the token follows it once (logged); the original, caught too, must enrol anew.
@Suite("Restored backups", .serialized)
struct RestoredBackupTests {
    @Test func theTokenFollowsOneCopyOnceAndTheOtherIsRefusedVisibly() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = directory.appendingPathComponent("hub.db").path
        let token = try issueToken(db: database, role: "device", city: "Tunis", name: "phone", directory: directory)
        let server = try ServerProcess(database: database)
        defer { server.stop() }
        let original = try TestDevice(
            name: "a", city: "Tunis", directory: directory, server: server.url, token: token.token)
        try original.work(families: 2, deliveriesEach: 1)
        try original.sync()
        try original.replica.checkpoint()
        try FileManager.default.copyItem(
            at: directory.appendingPathComponent("a.db"), to: directory.appendingPathComponent("b.db"))
        let copy = try TestDevice(
            name: "b", city: "Tunis", directory: directory, server: server.url, token: token.token)
        let shared = original.replica.nodeID
        try original.work(families: 1, deliveriesEach: 0)
        try original.sync()
        try copy.work(families: 1, deliveriesEach: 2)
        // The copy's first request does not follow the lease: it takes a new id, the token moves to it.
        let summary = try copy.sync()
        #expect(summary.newNodeID != nil && copy.replica.nodeID != shared)
        #expect(try copy.replica.previousNodeID() == shared)
        // Logged by the server as it answered, read here by another thread: waited for.
        #expect(server.waitForLog("token moved to a new node id"))
        // The original's token is the copy's now: 403 wrong-node, visibly, before anything is applied.
        #expect {
            try original.sync()
        } throws: { error in
            (error as? SyncClientError)?.problem?.code == "wrong-node"
        }
        // Enrolled again with a token of its own, it is caught too (the shared id is marked duplicated),
        // takes a new id and syncs: nothing of either phone is lost.
        let second = try issueToken(db: database, role: "device", city: "Tunis", name: "phone-2", directory: directory)
        let enrolled = try TestDevice(
            name: "a", city: "Tunis", directory: directory, server: server.url, token: second.token)
        let again = try enrolled.sync()
        #expect(again.newNodeID != nil)
        #expect(Set([shared, copy.replica.nodeID, enrolled.replica.nodeID]).count == 3)
        try copy.sync()
        #expect(try enrolled.count("families") == 4 && copy.count("families") == 4)
        let hub = try Replica(path: database, schema: .fieldSync, logger: quietLogger)
        #expect(try hub.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM families") } == 4)
        #expect(try hub.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM deliveries") } == 4)
    }
}

import FieldDomain
import Foundation
import GRDB
import SyncCore
import Testing

@Suite("Replica files")
struct ReplicaFileTests {
    @Test func filesAreCreatedReadableOnlyByTheirOwner() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("device.sqlite").path
        let replica = try makeFileReplica(at: path)
        try replica.write { try $0.addFamily(NewFamily(city: "Oran", reference: "R", headName: "H")) }
        for file in [path, path + "-wal", path + "-shm"] where FileManager.default.fileExists(atPath: file) {
            let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(file) has mode \(String(mode ?? 0, radix: 8))")
        }
    }

    @Test func tablesAreReadableWithPlainSQL() throws {
        let replica = try makeReplica()
        let id = try replica.write {
            try $0.addFamily(NewFamily(city: "Oran", reference: "R-7", headName: "Amina", phone: "0555"))
        }
        let row = try replica.read { db -> [String]? in
            try Row.fetchOne(db, sql: "SELECT reference, head_name, phone FROM families WHERE id = ?", arguments: [id])
                .map { [$0[0], $0[1], $0[2]] }
        }
        #expect(row == ["R-7", "Amina", "0555"])
    }

    @Test func aFileThatIsNotAReplicaIsRefusedAndLeftAlone() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("garbage.sqlite").path
        let garbage = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        try garbage.write(to: URL(fileURLWithPath: path))
        #expect {
            try makeFileReplica(at: path)
        } throws: { ($0 as? SyncError)?.code == .corruptReplica }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == garbage, "the file is not modified")
    }

    @Test func nodeIDClockAndSequencePersistAcrossReopen() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("device.sqlite").path
        let first = try makeFileReplica(at: path)
        try first.write { try $0.addFamily(NewFamily(city: "Oran", reference: "R", headName: "H")) }
        let (nodeID, head, dump) = (first.nodeID, try first.headCursor(), try first.dump())
        let reopened = try makeFileReplica(at: path)
        #expect(reopened.nodeID == nodeID)
        #expect(try reopened.headCursor() == head)
        #expect(try reopened.dump() == dump)
        #expect(try reopened.integrityCheck() == "ok")
    }

    @Test func twoHandlesOnOneFileNeverReuseASequenceOrStamp() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("hub.sqlite").path
        let clock = ManualClock()
        let a = try makeFileReplica(at: path, clock: clock)
        let b = try makeFileReplica(at: path, clock: clock)
        var ids: [String] = []
        for index in 0..<20 {
            let replica = index % 2 == 0 ? a : b
            ids.append(
                try replica.write { try $0.addFamily(NewFamily(city: "Oran", reference: "R\(index)", headName: "H")) })
        }
        let stamps = try ids.map { try a.stamps("families", id: $0)["city"]! }
        #expect(Set(stamps).count == 20)
        #expect(stamps == stamps.sorted())
        #expect(try a.changes(since: .start).batch.recordCount == 20)
    }
}

import FieldDomain
import Foundation
import SyncCore
import Testing

/// A newer app version adds a field; an older node keeps it and forwards it.
@Suite("Fields this version does not know")
struct UnknownFieldTests {
    static let newer: Schema = {
        var collections = Schema.fieldSync.collections
        let index = collections.firstIndex { $0.name == "families" }!
        let families = collections[index]
        collections[index] = CollectionSchema(
            families.name, kind: families.kind, scope: families.scopeField,
            fields: families.fields + [Field("whatsapp", .text)])
        return try! Schema(collections)
    }()

    @Test func anUnknownFieldSurvivesARoundTripThroughAnOlderNode() throws {
        let newA = try makeReplica(schema: Self.newer, node: node(1))
        let old = try makeReplica(node: node(2))
        let newB = try makeReplica(schema: Self.newer, node: node(3))
        let id = try newA.write { tx in
            try tx.create(
                "families", values: ["city": "Oran", "reference": "R1", "head_name": "Amina", "whatsapp": "+213 555"])
        }
        try pull(from: newA, into: old)
        #expect(try old.record("families", id: id)?["whatsapp"] == "+213 555")
        try pull(from: old, into: newB)
        #expect(try newB.record("families", id: id)?["whatsapp"] == "+213 555")
        #expect(try newB.stamps("families", id: id)["whatsapp"] == newA.stamps("families", id: id)["whatsapp"])
        #expect(try newA.dump() == newB.dump())
    }

    @Test func anUnknownFieldMergesLastWriterWinsOnTheOlderNode() throws {
        let newA = try makeReplica(schema: Self.newer, node: node(1))
        let newB = try makeReplica(schema: Self.newer, node: node(3))
        let old = try makeReplica(node: node(2))
        let id = try newA.write {
            try $0.create(
                "families", values: ["city": "Oran", "reference": "R1", "head_name": "A", "whatsapp": "first"])
        }
        try pull(from: newA, into: newB)
        try newB.write { try $0.update("families", id: id, values: ["whatsapp": "second"]) }
        // The older node sees the later write first, then the earlier one: the later one stays.
        try pull(from: newB, into: old)
        try pull(from: newA, into: old)
        #expect(try old.record("families", id: id)?["whatsapp"] == "second")
        #expect(try old.history(recordID: id).contains { $0.field == "whatsapp" && $0.value == "first" })
    }

    @Test func upgradingMovesKeptValuesIntoTheNewColumn() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("hub.sqlite").path
        let newA = try makeReplica(schema: Self.newer, node: node(1))
        let id = try newA.write {
            try $0.create(
                "families", values: ["city": "Oran", "reference": "R1", "head_name": "A", "whatsapp": "+213"])
        }
        do {
            let old = try makeFileReplica(at: path, node: node(2))
            try pull(from: newA, into: old)
        }
        // The hub is upgraded: the same file opened with the newer schema.
        let upgraded = try makeFileReplica(at: path, schema: Self.newer)
        #expect(try upgraded.record("families", id: id)?["whatsapp"] == "+213")
        #expect(try upgraded.dump() == newA.dump())
        let column = try upgraded.read { db in
            try String.fetchOne(db, sql: "SELECT whatsapp FROM families WHERE id = ?", arguments: [id])
        }
        #expect(column == "+213")
    }
}

@Suite("Files shared by two schema versions")
struct SchemaSkewTests {
    @Test func anOlderVersionKeepsTheNewerVersionsStampsAndValues() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("device.sqlite").path
        let clock = ManualClock()
        let remote = try makeReplica(schema: UnknownFieldTests.newer, clock: clock, node: node(9))
        var id = ""
        do {
            let newer = try makeFileReplica(at: path, schema: UnknownFieldTests.newer, clock: clock, node: node(1))
            id = try newer.write {
                try $0.create(
                    "families", values: ["city": "Oran", "reference": "R", "head_name": "H", "whatsapp": "first"])
            }
            try pull(from: newer, into: remote)
        }
        clock.advance(10)
        try remote.write { try $0.update("families", id: id, values: ["whatsapp": "second"]) }
        do {
            // The older app opens the same file, edits another field, and receives the newer whatsapp.
            let older = try makeFileReplica(at: path, clock: clock)
            clock.advance(10)
            try older.write { try $0.editFamily(id, ["phone": "0555"]) }
            try pull(from: remote, into: older)
        }
        let reopened = try makeFileReplica(at: path, schema: UnknownFieldTests.newer, clock: clock)
        #expect(try reopened.record("families", id: id)?["whatsapp"] == "second")
        #expect(try reopened.stamps("families", id: id)["whatsapp"] == remote.stamps("families", id: id)["whatsapp"])
        let page = try reopened.changes(since: .start)
        for group in page.batch.collections { #expect(Set(group.fields).count == group.fields.count) }
        try pull(from: reopened, into: remote)
        try pull(from: remote, into: reopened)
        #expect(try reopened.dump() == remote.dump())
    }
}

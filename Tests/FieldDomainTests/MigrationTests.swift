import FieldDomain
import Foundation
import SyncCore
import Testing

/// A replica written by version 1 of the domain (no catalogue, no campaigns, deliveries without an
/// association) opens with this version: its data intact, the new tables there, the rules in version 1's
/// mode until the admin sets things up.
@Suite("Domain migration")
struct MigrationTests {
    /// Version 1's schema: the collections and fields it had.
    static let versionOne: Schema = try! Schema(
        Schema.fieldSync.collections.prefix(5).map { collection in
            var collection = collection
            if collection.name == "deliveries" {
                collection = CollectionSchema(
                    collection.name, kind: collection.kind, scope: collection.scopeField,
                    fields: collection.fields.filter { $0.name != "association" })
            }
            return collection
        })

    @Test func aVersionOneReplicaOpensWithItsDataAndTheNewTables() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fieldsync-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("device.db").path
        var configuration = ReplicaConfiguration()
        configuration.clock = TestClock(day0)
        let (family, delivery) = try {
            let old = try Replica(path: path, schema: Self.versionOne, configuration: configuration)
            return try old.write { tx in
                let family = try tx.create(
                    "families", values: ["city": "Fès", "reference": "FES-1", "head_name": "Fatima Zahra"])
                let delivery = try tx.insert(
                    "deliveries",
                    values: [
                        "city": "Fès", "family": .text(family), "item": "food_pack", "quantity": 1,
                        "campaign": "2026-winter", "delivered_at": .integer(Int64(day0)), "volunteer": "Samira",
                    ])
                return (family, delivery)
            }
        }()
        let replica = try Replica(path: path, schema: .fieldSync, configuration: configuration)
        #expect(try replica.record("families", id: family)?["head_name"] == "Fatima Zahra")
        let ledger = try DeliveryLedger(replica).deliveries()
        #expect(ledger.map(\.id) == [delivery] && ledger.first?.association == nil)
        #expect(try Catalogue(replica.records).isBuiltIn)
        // Version 1's free campaign text still works until the admin sets campaigns up.
        try replica.write { tx in
            try tx.logDelivery(
                NewDelivery(
                    city: "Fès", family: family, item: "food_pack", campaign: "2026-spring", deliveredAt: day0,
                    volunteer: "Samira"))
        }
        try replica.setItem(Item(code: "tent", nameFR: "Tente"))
        #expect(try Catalogue(replica.records).items.keys.contains("food_pack"))
        #expect(try Report(replica, now: Int64(day0)).totals.map(\.deliveries).reduce(0, +) == 2)
    }
}

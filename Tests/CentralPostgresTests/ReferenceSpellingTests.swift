import CentralPostgres
import FieldDomain
import Foundation
import SyncCore
import Testing

/// A reference spelled with a character that Swift's `String` equates with an ASCII one (U+212A KELVIN
/// SIGN and "K" are canonically equivalent) while PostgreSQL and SQLite compare bytes. PostgreSQL's merge
/// gathers a push's ids in Swift: the spelling of the reference stood for the record's own id, so the
/// record's stored row was never read. A device of Fès could then overwrite a family of Rabat (the merge
/// took it for new, and the upsert's `ON CONFLICT` met the stored row), or store a family under an id no
/// client accepts. A reference must be a record's id (printable ASCII), on every engine.
@Suite("Ids and scopes compared by their bytes", .postgresCluster)
struct ReferenceSpellingTests {
    static let schema = try! Schema(Schema.fieldSync.collections)
    static let now = MergeEquivalenceTests.now
    static let (admin, device) = (MergeBatchGenerator.nodes[2], MergeBatchGenerator.nodes[0])

    @Test func aDeviceCannotReachAnotherCitysFamilyThroughAReferenceSpelledOtherwise() async throws {
        let kelvin = "\u{212A}F1"
        #expect(kelvin == "KF1" && Array(kelvin.utf8) != Array("KF1".utf8))
        let dump = try await Self.onBothEngines { store in
            // The admin registers KF1 in Rabat.
            let registered = try await store.apply(
                ClientPush(
                    batch: Self.family("KF1", city: "Rabat", head: "Amina", stamp: Self.stamp(1, Self.admin)),
                    client: Self.admin, scope: nil, role: .admin, lease: nil, pruneEchoBelow: nil, now: Self.now))
            #expect(registered.refused.isEmpty)
            // A device of Fès pushes a delivery naming the Kelvin spelling, then KF1 itself, in Fès.
            let deliveries = CollectionChanges(
                name: "deliveries", fields: ["city", "family", "item", "quantity", "delivered_at", "volunteer"],
                records: [
                    RecordChange(
                        id: "D1", stamp: Self.stamp(2, Self.device),
                        cells: [
                            Cell(field: 0, value: "Fès"), Cell(field: 1, value: .text(kelvin)),
                            Cell(field: 2, value: "food_pack"), Cell(field: 3, value: 1),
                            Cell(field: 4, value: .integer(Self.now)), Cell(field: 5, value: "Sami"),
                        ])
                ])
            var batch = Self.family("KF1", city: "Fès", head: "Hijacked", stamp: Self.stamp(3, Self.device))
            batch.collections.insert(deliveries, at: 0)
            let report = try await store.apply(
                ClientPush(
                    batch: batch, client: Self.device, scope: "Fès", lease: nil, pruneEchoBelow: nil,
                    now: Self.now))
            // The delivery is refused for its reference, KF1 for lying in Rabat.
            #expect(
                report.refused.map { "\($0.collection)/\($0.id) \($0.code)" }.sorted()
                    == ["deliveries/D1 invalid-value", "families/KF1 out-of-scope"], "\(report.refused)")
        }
        #expect(dump.contains("Rabat") && dump.contains("Amina") && !dump.contains("Hijacked"), "\(dump)")
        // (By scalars: `String.contains` would find "KF1" too.)
        #expect(!dump.unicodeScalars.contains("\u{212A}"), "\(dump)")
    }

    /// The same for a scope: "Fès" with its "è" as one character, and as "e" then a combining accent. Swift's
    /// `String` equates them, the stores and the feed's filter compare bytes: a record a device of Fès
    /// pushed in the other spelling passed the scope check and then lay in a city no hub of Fès pulls.
    @Test func aRecordInAScopeSpelledOtherwiseIsOutsideTheDevicesScope() async throws {
        let decomposed = "Fe\u{300}s"
        #expect(decomposed == "Fès" && Array(decomposed.utf8) != Array("Fès".utf8))
        let dump = try await Self.onBothEngines { store in
            let report = try await store.apply(
                ClientPush(
                    batch: Self.family("F9", city: decomposed, head: "Nadia", stamp: Self.stamp(1, Self.device)),
                    client: Self.device, scope: "Fès", lease: nil, pruneEchoBelow: nil, now: Self.now))
            #expect(report.refused.map { "\($0.collection)/\($0.id) \($0.code)" } == ["families/F9 out-of-scope"])
        }
        #expect(!dump.contains("Nadia"), "\(dump)")
    }

    /// Runs `body` on a new PostgreSQL central then on a new SQLite one (the schema without its rules),
    /// expects both to dump the same, and returns the dump.
    static func onBothEngines(_ body: (any SyncStore) async throws -> Void) async throws -> String {
        try await withTestDatabase { database in
            let postgres = try await PostgresStore(database, schema: schema)
            let sqlite = try ReplicaStore(sqliteCentral(schema))
            try await body(postgres)
            try await body(sqlite)
            let dump = try await postgres.dump()
            #expect(try dump == sqlite.replica.dump())
            return dump
        }
    }

    static func stamp(_ counter: UInt16, _ node: NodeID) -> Stamp {
        Stamp(hlc: HLCTimestamp(millis: UInt64(now), counter: counter), node: node)
    }

    static func family(_ id: String, city: String, head: String, stamp: Stamp) -> ChangeBatch {
        ChangeBatch([
            CollectionChanges(
                name: "families", fields: ["city", "reference", "head_name"],
                records: [
                    RecordChange(
                        id: id, stamp: stamp,
                        cells: [
                            Cell(field: 0, value: .text(city)), Cell(field: 1, value: "R-1"),
                            Cell(field: 2, value: .text(head)),
                        ])
                ])
        ])
    }
}

import FieldDomain
import Foundation
import SyncCore
import Testing

/// What a dishonest client sends that a server refuses record by record, and the numbers it checks.
@Suite("Refusals")
struct RefusalTests {
    let t0: UInt64 = 1_780_000_000_000

    @Test func cursorsBeyondTwoToThe53AreNotCursors() {
        #expect(FeedCursor("9223372036854775807") == nil)
        #expect(FeedCursor("9007199254740993") == nil)
        #expect(FeedCursor("0:9223372036854775807") == nil)
        #expect(FeedCursor("9007199254740992") == FeedCursor(FeedCursor.maxPosition))
        // The skip past echo ranges stops at the limit instead of trapping.
        var ranges = SequenceRanges()
        ranges.insert(1...FeedCursor.maxPosition)
        #expect(FeedCursor(FeedCursor.maxPosition).skipping(ranges) == FeedCursor(FeedCursor.maxPosition))
    }

    @Test(arguments: [
        "{\"app\":\"x\",\"clock_correction_ms\":-9223372036854775808}", "{\"app\":\"x\",\"backlog\":-1}",
        "{\"app\":\"x\",\"oldest_pending_ms\":-5}", "{\"app\":\"x\",\"backlog\":9223372036854775807}",
    ])
    func heartbeatNumbersOutOfRangeAreRefused(_ heartbeat: String) {
        let body = "{\"v\":1,\"node\":\"00000000000000aa\",\"clock\":1,\"heartbeat\":\(heartbeat)}"
        #expect(throws: SyncError.self) { try SyncRequest(decoding: Array(body.utf8)) }
    }

    /// A server's replica with one family in Tunis and one in Sfax; returns it and the two ids.
    func central() throws -> (Replica, tunis: String, sfax: String) {
        let replica = try makeReplica(clock: ManualClock(t0))
        let (tunis, sfax) = try replica.write { tx in
            (
                try tx.addFamily(NewFamily(city: "Tunis", reference: "T", headName: "T")),
                try tx.addFamily(NewFamily(city: "Sfax", reference: "S", headName: "S"))
            )
        }
        return (replica, tunis, sfax)
    }

    func delivery(_ id: String, family: String, city: String = "Tunis", node raw: Int64 = 9) -> RecordChange {
        RecordChange(
            id: id, stamp: stamp(t0, node: raw),
            cells: [
                Cell(field: 0, value: .text(city)), Cell(field: 1, value: .text(family)),
                Cell(field: 2, value: "food_pack"), Cell(field: 3, value: 1),
                Cell(field: 5, value: .integer(Int64(t0))),
                Cell(field: 6, value: "v"),
            ])
    }

    @Test func referencesStayInTheirScope() throws {
        let (server, tunis, sfax) = try central()
        let batch = ChangeBatch([
            CollectionChanges(
                name: "deliveries", fields: deliveryFields,
                records: [
                    delivery("cross", family: sfax), delivery("own", family: tunis),
                    delivery("dangling", family: "not-yet-here"),
                ]),
            CollectionChanges(
                name: "families", fields: ["merged_into"],
                records: [
                    RecordChange(id: tunis, stamp: stamp(t0, node: 9), cells: [Cell(field: 0, value: .text(sfax))])
                ]),
        ])
        for scope in ["Tunis", nil] as [String?] {
            let report = try server.apply(batch, from: "client:9", scope: scope, fromClient: true)
            #expect(Set(report.refused.map(\.id)) == ["cross", tunis], "\(scope ?? "admin"): \(report.refused)")
            #expect(report.refused.allSatisfy { $0.code == .badReference })
            #expect(Set(report.refused.compactMap(\.field)) == ["family", "merged_into"])
        }
        #expect(try server.record("deliveries", id: "own") != nil)
        #expect(try server.record("deliveries", id: "dangling") != nil)
        // Kept, and reported until the family arrives.
        #expect(
            try server.danglingReferences()
                == [
                    DanglingReference(collection: "deliveries", id: "dangling", field: "family", target: "not-yet-here")
                ])
        #expect(try server.record("deliveries", id: "cross") == nil)
        #expect(try server.record("families", id: tunis)?["merged_into"] == .null)
        // The admin accepts the cross-city delivery after all: written here, no longer open.
        let cross = try #require(try server.refusedRecords().first { $0.refusal.id == "cross" })
        #expect(try server.acceptRefused(cross.id) == RecordRef(collection: "deliveries", id: "cross"))
        #expect(try server.record("deliveries", id: "cross")?["family"] == .text(sfax))
        #expect(try !server.refusedRecords().contains { $0.refusal.id == "cross" })
        #expect(throws: SyncError.self) { try server.acceptRefused(cross.id) }
        // A void of another city's delivery is refused the same way.
        let sfaxDelivery = try server.write { tx in
            try tx.logDelivery(
                NewDelivery(city: "Sfax", family: sfax, item: .foodPack, deliveredAt: t0, volunteer: "s"))
        }
        let void = ChangeBatch([
            CollectionChanges(
                name: "delivery_voids", fields: ["city", "delivery", "reason", "volunteer", "voided_at"],
                records: [
                    RecordChange(
                        id: "void-1", stamp: stamp(t0, node: 9),
                        cells: [
                            Cell(field: 0, value: "Tunis"), Cell(field: 1, value: .text(sfaxDelivery)),
                            Cell(field: 2, value: "x"), Cell(field: 3, value: "v"),
                            Cell(field: 4, value: .integer(Int64(t0))),
                        ])
                ])
        ])
        #expect(
            try server.apply(void, from: "client:9", scope: "Tunis", fromClient: true).refused.map(\.code) == [
                .badReference
            ])
    }

    @Test func schemaRulesAreEnforcedOnReceivedRecords() throws {
        let (server, tunis, _) = try central()
        func withValue(_ id: String, field: Int, _ value: Value) -> RecordChange {
            var record = delivery(id, family: tunis)
            record.cells = record.cells.map { $0.field == field ? Cell(field: field, value: value) : $0 }
            return record
        }
        let batch = ChangeBatch([
            CollectionChanges(
                name: "deliveries", fields: deliveryFields,
                records: [
                    withValue("zero", field: 3, 0), withValue("negative", field: 3, -1),
                    withValue("max", field: 3, .integer(.max)), withValue("tent", field: 2, "tent"),
                    withValue("far-future", field: 5, .integer(.max)), withValue("fine", field: 3, 2),
                ]),
            CollectionChanges(
                name: "families", fields: ["city", "head_name", "household_size"],
                records: [
                    RecordChange(
                        id: "no-reference", stamp: stamp(t0, node: 9),
                        cells: [Cell(field: 0, value: "Tunis"), Cell(field: 1, value: "H"), Cell(field: 2, value: 3)]),
                    RecordChange(id: tunis, stamp: stamp(t0 + 1, node: 9), cells: [Cell(field: 2, value: 0)]),
                ]),
        ])
        let report = try server.apply(batch, from: "client:9", scope: "Tunis", fromClient: true)
        #expect(
            Set(report.refused.map(\.id)) == ["zero", "negative", "max", "tent", "far-future", "no-reference", tunis])
        #expect(report.refused.allSatisfy { $0.code == .invalidValue })
        // Only the edit of a family the server holds in the sender's city leaves the record standing.
        #expect(report.refused.filter(\.stays).map(\.id) == [tunis])
        #expect(try server.record("deliveries", id: "fine") != nil)
        #expect(try server.record("families", id: tunis)?["household_size"] == .null)
        // Accepting a record the rules refuse fails, and it stays open.
        let tent = try #require(try server.refusedRecords().first { $0.refusal.id == "tent" })
        #expect(throws: SyncError.self) { try server.acceptRefused(tent.id) }
        #expect(try server.refusedRecords().contains { $0.refusal.id == "tent" })
        // The same rules hold for what a node writes itself.
        #expect(throws: SyncError.self) {
            try server.write { tx in
                try tx.insert(
                    "deliveries",
                    values: [
                        "city": "Tunis", "family": .text(tunis), "item": "tent", "quantity": 1,
                        "delivered_at": .integer(Int64(t0)), "volunteer": "v",
                    ])
            }
        }
    }

    /// U+0000 in a text, known field or not: refused record by record at every node (central's PostgreSQL
    /// store cannot hold it, and no node takes what another refuses), the rest applied; a node's own write
    /// of one fails too. The wire itself carries it (a pull of data stored before never fails on it).
    @Test func aTextHoldingNULIsRefusedRecordByRecord() throws {
        let (server, tunis, _) = try central()
        var unknown = delivery("unknown", family: tunis)
        unknown.cells.append(Cell(field: deliveryFields.count, value: "a\u{0}b"))
        var known = delivery("known", family: tunis)
        known.cells = known.cells.map { $0.field == 6 ? Cell(field: 6, value: "Am\u{0}ina") : $0 }
        let body =
            "{\"nodes\":[\"0000000000000001\"],\"groups\":[{\"collection\":\"f\",\"fields\":[\"c\"],\"records\":[[\"a\",1,0,\"x\\u0000y\"]]}]}"
        #expect(try WireBatch.decode(Array(body.utf8)).collections[0].records[0].cells[0].value == "x\u{0}y")
        let batch = ChangeBatch([
            CollectionChanges(
                name: "deliveries", fields: deliveryFields + ["whatsapp"],
                records: [unknown, known, delivery("fine", family: tunis)])
        ])
        let report = try server.apply(batch, from: "client:9", scope: "Tunis", fromClient: true)
        #expect(report.refused.map(\.id) == ["unknown", "known"])
        #expect(report.refused.allSatisfy { $0.code == .invalidValue && $0.detail.contains("U+0000") })
        #expect(try server.record("deliveries", id: "fine") != nil)
        // A field name is never text a person typed: one with a control character breaks the batch.
        let named = ChangeBatch([CollectionChanges(name: "deliveries", fields: ["what\u{0}sapp"], records: [])])
        #expect(throws: SyncError.self) { try server.apply(named, from: "client:9", scope: "Tunis", fromClient: true) }
        #expect(throws: SyncError.self) {
            try server.write { tx in
                try tx.insert(
                    "deliveries",
                    values: [
                        "city": "Tunis", "family": .text(tunis), "item": "food_pack", "quantity": 1,
                        "delivered_at": .integer(Int64(t0)), "volunteer": "v\u{0}",
                    ])
            }
        }
    }

    /// A record that left this node's scope is deleted here, but a change of it not yet sent is kept aside,
    /// not lost.
    @Test func aDepartureKeepsAChangeNotYetSent() throws {
        let device = try makeReplica(clock: ManualClock(t0))
        let (edited, untouched) = try device.write { tx in
            (
                try tx.addFamily(NewFamily(city: "Tunis", reference: "E", headName: "E")),
                try tx.addFamily(NewFamily(city: "Tunis", reference: "U", headName: "U"))
            )
        }
        let head = try device.headCursor()
        try device.apply(ChangeBatch(), from: "upstream", progress: PeerProgress(pushed: head))
        try device.write { tx in try tx.editFamily(edited, ["phone": "0611"]) }
        let left = [RecordRef(collection: "families", id: edited), RecordRef(collection: "families", id: untouched)]
        try device.apply(ChangeBatch(), from: "upstream", progress: PeerProgress(left: left))
        #expect(try device.record("families", id: edited) == nil)
        #expect(try device.record("families", id: untouched) == nil)
        let kept = try device.refusedRecords()
        #expect(kept.map(\.refusal.id) == [edited])
        #expect(kept.first?.record?.contains("0611") == true)
    }

    /// A client cannot fill the server's disk with refusals: past the bound of open ones, its pushes that
    /// refuse more are refused whole until the admin deals with them.
    @Test func openRefusalsPerClientAreBounded() throws {
        let (server, tunis, _) = try central()
        var sent = 0
        func push(_ count: Int) throws -> ApplyReport {
            let records = (0..<count).map { index in
                var record = delivery("bad-\(sent + index)", family: tunis)
                record.cells[3] = Cell(field: 3, value: -1)
                return record
            }
            sent += count
            return try server.apply(
                ChangeBatch([CollectionChanges(name: "deliveries", fields: deliveryFields, records: records)]),
                from: "client:9", scope: "Tunis", fromClient: true)
        }
        for _ in 0..<(Refusal.maxOpenPerSource / Refusal.maxPerAnswer) {
            #expect(try push(Refusal.maxPerAnswer).refused.count == Refusal.maxPerAnswer)
        }
        #expect { try push(1) } throws: { ($0 as? SyncError)?.code == .tooLarge }
        // A push sent again (its answer lost) adds no row: it is not refused for the bound.
        sent -= Refusal.maxPerAnswer + 1
        #expect(try push(Refusal.maxPerAnswer).refused.count == Refusal.maxPerAnswer)
        sent += 1
        // Another client is not held back, and once the admin drops some the client goes on.
        #expect(
            try server.apply(
                ChangeBatch([
                    CollectionChanges(
                        name: "deliveries", fields: deliveryFields,
                        records: [delivery("other", family: tunis)])
                ]), from: "client:8", scope: "Tunis", fromClient: true
            ).refused.isEmpty)
        try server.dropRefused(try #require(try server.refusedRecords(limit: 1).first).id)
        #expect(try push(1).refused.count == 1)
    }

    /// The client side: the records a server refused are set aside in the transaction that saves the
    /// answer, and are not sent again.
    @Test func aClientSetsItsRefusedRecordsAside() throws {
        let device = try makeReplica(clock: ManualClock(t0))
        let (family, delivery) = try device.write { tx in
            let family = try tx.addFamily(NewFamily(city: "Tunis", reference: "R", headName: "H"))
            let delivery = try tx.logDelivery(
                NewDelivery(city: "Tunis", family: family, item: .foodPack, deliveredAt: t0, volunteer: "v"))
            return (family, delivery)
        }
        let refusal = Refusal(collection: "deliveries", id: delivery, code: .badReference, field: "family", detail: "x")
        let head = try device.headCursor()
        try device.apply(ChangeBatch(), from: "upstream", progress: PeerProgress(pushed: head, refused: [refusal]))
        #expect(try device.record("deliveries", id: delivery) == nil)
        #expect(try device.record("families", id: family) != nil)
        // A refused change of a record the server keeps: the record stays here, the change is kept aside.
        let edit = Refusal(
            collection: "families", id: family, code: .invalidValue, field: "household_size", detail: "y", stays: true)
        try device.write { tx in try tx.editFamily(family, ["phone": "0611"]) }
        try device.apply(ChangeBatch(), from: "upstream", progress: PeerProgress(pushed: head, refused: [edit]))
        #expect(try device.record("families", id: family)?["phone"] == "0611")
        #expect(try device.refusedRecords().count == 2)
        let kept = try device.refusedRecords().filter { $0.refusal.collection == "deliveries" }
        #expect(kept.map(\.refusal) == [refusal])
        #expect(kept.first?.record?.contains("food_pack") == true)
        #expect(kept.first?.source == "upstream")
        // On the wire: named in the acknowledgement, read back the same.
        let response = SyncResponse(
            node: node(1), clockMillis: 1, pushed: .init(to: head, records: 2, conflicts: 0, refused: [refusal]))
        #expect(try SyncResponse(decoding: response.encoded()).pushed?.refused == [refusal])
        let staying = SyncResponse(
            node: node(1), clockMillis: 1, pushed: .init(to: head, records: 1, conflicts: 0, refused: [edit]))
        #expect(try SyncResponse(decoding: staying.encoded()).pushed?.refused == [edit])
    }
}

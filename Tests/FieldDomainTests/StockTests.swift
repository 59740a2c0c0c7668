import FieldDomain
import SyncCore
import Testing

/// A hub's stock (decision record 0020): on hand from the moves and the city's deliveries; only a hub or
/// the admin records moves.
@Suite("Stock per hub")
struct StockTests {
    func move(_ kind: Stock.Kind, _ quantity: Int, city: String = "Fès", item: String = "food_pack") -> NewStockMove {
        NewStockMove(city: city, item: item, kind: kind, quantity: quantity, movedAt: day0, operatorName: "Youssef")
    }

    func deliver(_ tx: ReplicaTransaction, family: String, city: String = "Fès", quantity: Int = 1) throws -> String {
        try tx.logDelivery(
            NewDelivery(
                city: city, family: family, item: "food_pack", quantity: quantity, campaign: "phase-1",
                deliveredAt: day0 + 60_000, volunteer: "Samira"))
    }

    @Test func onHandIsTheMovesLessTheCitysDeliveriesVoidsAside() throws {
        let central = try programme()
        try central.write { tx in
            let fes = try tx.addFamily(NewFamily(city: "Fès", reference: "FES-1", headName: "Fatima Zahra"))
            let rabat = try tx.addFamily(NewFamily(city: "Rabat", reference: "RAB-1", headName: "Khadija"))
            try tx.recordStockMove(move(.received, 300))
            try tx.recordStockMove(move(.received, 20))
            try tx.recordStockMove(move(.returned, 10))
            try tx.recordStockMove(move(.lost, 4))
            try tx.recordStockMove(move(.corrected, -6))
            try tx.recordStockMove(move(.received, 50, city: "Rabat"))
            _ = try deliver(tx, family: fes, quantity: 3)
            let voided = try deliver(tx, family: fes, quantity: 2)
            try tx.voidDelivery(voided, city: "Fès", reason: "wrong family", volunteer: "Samira", at: day0)
            _ = try deliver(tx, family: rabat, city: "Rabat", quantity: 60)
            // Connectivity packs: delivered, never received: not tracked.
            try tx.logDelivery(
                NewDelivery(
                    city: "Fès", family: fes, item: "connectivity_pack", campaign: "phase-1",
                    deliveredAt: day0 + 60_000, volunteer: "Samira"))
        }
        let levels = try Stock.levels(central)
        #expect(levels.map { "\($0.city) \($0.item)" } == ["Fès food_pack", "Rabat food_pack"])
        let fes = try #require(levels.first)
        #expect((fes.received, fes.returned, fes.lost, fes.corrected, fes.handedOut) == (320, 10, 4, -6, 3))
        #expect(fes.onHand == 297)
        #expect(!fes.isOverdrawn)
        let rabat = try #require(levels.last)
        #expect(rabat.onHand == -10)
        #expect(rabat.isOverdrawn)
        #expect(try Stock.levels(central, city: "Rabat", item: "food_pack") == [rabat])
        #expect(try Stock.levels(central, city: "Oujda").isEmpty)
        let report = try Report(central, now: Int64(day0))
        #expect(report.stock == levels)
    }

    @Test func aMoveThatBreaksARuleIsRefusedAtTheNodeThatWritesIt() throws {
        let central = try programme()
        for (bad, says) in [
            (move(.received, 0), "1 or more"), (move(.lost, -3), "1 or more"), (move(.corrected, 0), "other than 0"),
            (move(.received, 5, item: "gold"), "not an item of the catalogue"),
        ] {
            let error = #expect(throws: SyncError.self) { try central.write { tx in try tx.recordStockMove(bad) } }
            #expect(error?.code == .invalidValue, "\(bad)")
            #expect(error?.message.contains(says) == true, "\(bad): \(String(describing: error))")
        }
        let error = #expect(throws: SyncError.self) {
            try central.write { tx in
                _ = try tx.insert(
                    "stock_moves",
                    values: [
                        "city": "Fès", "item": "food_pack", "kind": "found", "quantity": 3,
                        "moved_at": .integer(Int64(day0)), "operator": "Youssef",
                    ])
            }
        }
        #expect(error?.code == .invalidValue)
        #expect(try Stock.levels(central).isEmpty)
    }

    /// A volunteer's device cannot add stock (and then hand it out): its push of a move is refused; the
    /// hub's and the admin's are taken.
    @Test func onlyAHubOrTheAdminRecordsStock() throws {
        for (role, refused) in [(Principal.Role.device, true), (nil, true), (.hub, false), (.admin, false)] {
            let central = try programme()
            let client = try domainReplica(node: 9)
            try copyChanges(from: central, into: client)
            let since = try client.changes(since: .start).cursor
            try client.write { tx in try tx.recordStockMove(move(.received, 1_000)) }
            let page = try client.changes(since: since)
            let refusals = try central.apply(
                page.batch, from: "client", sender: client.nodeID, scope: "Fès", role: role, fromClient: true
            ).refused
            #expect(refusals.map(\.collection) == (refused ? ["stock_moves"] : []), "\(String(describing: role))")
            #expect(try Stock.levels(central).first?.received == (refused ? nil : 1_000))
        }
    }
}

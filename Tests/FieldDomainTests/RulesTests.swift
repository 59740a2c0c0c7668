import FieldDomain
import SyncCore
import Testing

/// The domain's rules at a server: a client that skips them (another team's client, a hostile one) has
/// its records refused one by one, each refusal naming the record and the field.
@Suite("Domain rules")
struct RulesTests {
    /// A client replica that holds the programme but checks nothing (the schema without its rules).
    func lawlessClient(_ central: Replica, node: Int64 = 7) throws -> Replica {
        var configuration = ReplicaConfiguration()
        configuration.clock = TestClock(day0)
        configuration.nodeID = NodeID(rawValue: node)
        configuration.durability = .off
        let client = try Replica(
            inMemory: try Schema(Schema.fieldSync.collections), configuration: configuration)
        try copyChanges(from: central, into: client)
        return client
    }

    func family(_ client: Replica, city: String = "Fès") throws -> String {
        try client.write { tx in try tx.addFamily(NewFamily(city: city, reference: "FES-1", headName: "Fatima Zahra")) }
    }

    /// Pushes one delivery with `values` overriding a valid one; returns the refusals.
    func pushDelivery(_ values: [String: Value?]) throws -> [Refusal] {
        let central = try programme()
        let client = try lawlessClient(central)
        let family = try family(client)
        let since = try client.changes(since: .start).cursor
        _ = try push(from: client, to: central, scope: "Fès")
        var record: [String: Value] = [
            "city": "Fès", "family": .text(family), "item": "food_pack", "quantity": 1, "campaign": "phase-1",
            "delivered_at": .integer(Int64(day0 + 60_000)), "volunteer": "Samira",
        ]
        for (field, value) in values { record[field] = value ?? .null }
        try client.write { tx in _ = try tx.insert("deliveries", values: record.filter { !$0.value.isNull }) }
        return try push(from: client, to: central, scope: "Fès", since: since)
    }

    @Test func aValidDeliveryIsAccepted() throws {
        #expect(try pushDelivery([:]).isEmpty)
    }

    @Test(
        arguments: [
            (["item": .text("tent")], "item", "not an item of the catalogue"),
            (["campaign": .text("phase1")], "campaign", "Open on 2026-12-06: phase-1."),
            (["campaign": .text("Phase-1")], "campaign", "There is no campaign"),
            (["campaign": nil], "campaign", "A delivery names its campaign"),
            (["campaign": .text("phase-2")], "campaign", "is not open on 2026-12-06"),
            (
                [
                    "item": .text("connectivity_pack"), "campaign": .text("phase-1"),
                    "delivered_at": .integer(Int64(day0 - 1)),
                ],
                "campaign", "not open on 2026-12-05"
            ),
            (["association": .text("nour")], "association", "Rabat"),
            (["association": .text("ghost")], "association", "no association 'ghost'"),
        ] as [([String: Value?], String, String)])
    func aDeliveryBreakingARuleIsRefusedNamingTheField(values: [String: Value?], field: String, detail: String) throws {
        let refusals = try pushDelivery(values)
        #expect(refusals.count == 1)
        #expect(refusals.first?.collection == "deliveries")
        #expect(refusals.first?.field == field)
        #expect(refusals.first?.detail.contains(detail) == true, "\(refusals.first?.detail ?? "none")")
    }

    @Test func anItemTheCampaignDoesNotGiveIsRefused() throws {
        let central = try programme()
        try central.write { tx in
            try tx.setCampaign(
                Campaign(
                    code: "ramadan", name: "Ramadan", startsAt: Int64(day0), endsAt: Int64(day0 + dayMillis * 20),
                    items: ["food_pack": 1]))
        }
        let client = try lawlessClient(central)
        let family = try family(client)
        try client.write { tx in
            try tx.logDelivery(
                NewDelivery(
                    city: "Fès", family: family, item: "internet_recharge", campaign: "ramadan",
                    deliveredAt: day0 + 60_000, volunteer: "Samira"))
        }
        let refusals = try push(from: client, to: central, scope: "Fès")
        #expect(refusals.map(\.field) == ["item"])
        #expect(refusals.first?.detail.contains("does not give internet_recharge") == true)
    }

    @Test func aFamilyInAnotherCitysAssociationOrMergedIntoItselfIsRefused() throws {
        let central = try programme()
        let client = try lawlessClient(central)
        let (a, b) = try client.write { tx in
            (
                try tx.addFamily(NewFamily(city: "Fès", reference: "A", headName: "A", association: "nour")),
                try tx.addFamily(NewFamily(city: "Fès", reference: "B", headName: "B"))
            )
        }
        try client.write { tx in try tx.editFamily(b, ["merged_into": .text(b)]) }
        let refusals = try push(from: client, to: central, scope: "Fès")
        #expect(Set(refusals.map { "\($0.id).\($0.field ?? "")" }) == ["\(a).association", "\(b).merged_into"])
    }

    @Test func theSameRulesRefuseALocalWriteWithATypedError() throws {
        let central = try programme()
        let device = try domainReplica(node: 9)
        try copyChanges(from: central, into: device)
        let family = try device.write { tx in try tx.addFamily(NewFamily(city: "Fès", reference: "F", headName: "F")) }
        #expect {
            try device.write { tx in
                try tx.logDelivery(
                    NewDelivery(
                        city: "Fès", family: family, item: "food_pack", campaign: "phase1", deliveredAt: day0,
                        volunteer: "v"))
            }
        } throws: { ($0 as? SyncError)?.code == .invalidValue && "\($0)".contains("phase-1") }
    }

    @Test func whatAnUpstreamSendsIsNotCheckedAgain() throws {
        // A hub pulls central's records as they are: central checked them when its client pushed them.
        let central = try programme()
        let hub = try domainReplica(node: 3)
        let lawless = try lawlessClient(central, node: 8)
        let family = try family(lawless)
        try lawless.write { tx in
            try tx.logDelivery(
                NewDelivery(city: "Fès", family: family, item: "tent", deliveredAt: day0, volunteer: "v"))
        }
        try copyChanges(from: lawless, into: hub)
        #expect(try DeliveryLedger(hub).deliveries().map(\.item) == ["tent"])
    }

    @Test func theCatalogueStartsWithTheBuiltInItemsAndTheirDeliveriesStayValid() throws {
        let replica = try domainReplica()
        #expect(try Catalogue(replica.records).isBuiltIn)
        try replica.setItem(Item(code: "tent", nameFR: "Tente"))
        let catalogue = try Catalogue(replica.records)
        #expect(!catalogue.isBuiltIn)
        #expect(Set(catalogue.items.keys) == ["food_pack", "connectivity_pack", "internet_recharge", "tent"])
        try replica.setItem(Item(code: "food_pack", nameFR: "Panier", active: false))
        let family = try replica.write { tx in try tx.addFamily(NewFamily(city: "Fès", reference: "F", headName: "F")) }
        #expect(throws: SyncError.self) {
            try replica.write { tx in
                try tx.logDelivery(
                    NewDelivery(city: "Fès", family: family, item: "food_pack", deliveredAt: day0, volunteer: "v"))
            }
        }
    }

    @Test func campaignItemsParseStrictly() throws {
        #expect(
            try Campaign.parseItems("food_pack:1, internet_recharge:3,tent") == [
                "food_pack": 1, "internet_recharge": 3, "tent": nil,
            ])
        for bad in ["", "food_pack:-1", "food_pack:x", "Food Pack", "food_pack,food_pack", "a:1:2"] {
            #expect(throws: RecordProblem.self, "\(bad)") { try Campaign.parseItems(bad) }
        }
    }

    @Test func aTransactionThatChangesTheCatalogueIsCheckedAgainstTheNewOne() throws {
        // The rules' reads are kept for a transaction until it writes their collection.
        let replica = try domainReplica()
        let family = try replica.write { tx in try tx.addFamily(NewFamily(city: "Fès", reference: "F", headName: "F")) }
        #expect(throws: SyncError.self) {
            try replica.write { tx in
                try tx.logDelivery(
                    NewDelivery(city: "Fès", family: family, item: "food_pack", deliveredAt: day0, volunteer: "v"))
                try tx.setCampaign(
                    Campaign(
                        code: "phase-1", name: "Phase 1", startsAt: Int64(day0), endsAt: Int64(day0 + dayMillis),
                        items: ["food_pack": 1]))
                // Before the campaign, any campaign text passed; now this one must name phase-1.
                try tx.logDelivery(
                    NewDelivery(
                        city: "Fès", family: family, item: "food_pack", campaign: "phase1", deliveredAt: day0,
                        volunteer: "v"))
            }
        }
    }

    @Test func aDeviceCannotMarkFamiliesAsDifferent() throws {
        // Else a volunteer could hide a family registered twice from the admin's report.
        let central = try programme()
        let client = try lawlessClient(central)
        let (a, b) = try client.write { tx in
            (
                try tx.addFamily(NewFamily(city: "Fès", reference: "A", headName: "Fatima Zahra")),
                try tx.addFamily(NewFamily(city: "Fès", reference: "B", headName: "Fatima Zahra"))
            )
        }
        try client.write { tx in try tx.markDistinct(a, b, city: "Fès") }
        let refusals = try push(from: client, to: central, scope: "Fès")
        #expect(refusals.map(\.collection) == ["distinct_families"])
        #expect(refusals.first?.code == .outOfScope)
        #expect(try FamilyMerge.distinctPairs(central.records).isEmpty)
    }
}

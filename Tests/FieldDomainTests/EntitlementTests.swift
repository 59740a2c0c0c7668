import FieldDomain
import SyncCore
import Testing

/// The entitlement verdict: one function for the device's refusal and the report's breach.
@Suite("Entitlements")
struct EntitlementTests {
    func delivery(
        _ id: String, _ item: String = "food_pack", quantity: Int = 1, campaign: String? = "phase-1", day: Int64 = 0
    ) -> CountedDelivery {
        CountedDelivery(
            id: id, item: item, quantity: quantity, campaign: campaign, deliveredAt: Int64(day0) + day * 86_400_000)
    }

    @Test func aRuleOfEveryCampaignCountsWithinEachCampaign() {
        // The rule's help says "(default: every campaign)": phase-2's pack is not phase-1's second.
        let rule = EntitlementRule(id: "r", item: "food_pack", campaign: nil, max: 1)
        let prior = [delivery("a", campaign: "phase-1")]
        #expect(Entitlements.breaches(of: delivery("b", campaign: "phase-2"), given: prior, rules: [rule]).isEmpty)
        #expect(Entitlements.breaches(of: delivery("b", campaign: "phase-1"), given: prior, rules: [rule]).count == 1)
    }

    @Test func aWindowCountsOnlyCloserDeliveriesAndQuantitiesAddUp() {
        let rule = EntitlementRule(id: "r", item: "internet_recharge", campaign: nil, max: 3, windowDays: 30)
        let prior = [delivery("a", "internet_recharge", quantity: 2, day: 0)]
        let late = delivery("b", "internet_recharge", quantity: 2, day: 30)
        let early = delivery("c", "internet_recharge", quantity: 2, day: 29)
        #expect(Entitlements.breaches(of: late, given: prior, rules: [rule]).isEmpty)
        let breach = Entitlements.breaches(of: early, given: prior, rules: [rule])
        #expect(breach.map(\.total) == [4])
        #expect(breach.first?.counted.map(\.id) == ["a"])
    }

    @Test func aMergedFamilysCardCountsForTheFamilyItWasMergedInto() throws {
        // The defect: a second phase-1 pack logged against the merged card was accepted.
        let central = try programme()
        let (kept, duplicate) = try central.write { tx in
            (
                try tx.addFamily(NewFamily(city: "Fès", reference: "FES-1", headName: "Fatima Zahra")),
                try tx.addFamily(NewFamily(city: "Fès", reference: "FES-2", headName: "فاطمة الزهراء"))
            )
        }
        try central.write { tx in
            try tx.logDelivery(
                NewDelivery(
                    city: "Fès", family: kept, item: "food_pack", campaign: "phase-1", deliveredAt: day0 + 1000,
                    volunteer: "v"))
        }
        let groups = try DeliveryLedger(central).familyGroups()
        let keepRecord = try #require(try central.records.record("families", id: kept))
        let dupRecord = try #require(try central.records.record("families", id: duplicate))
        let target = try FamilyMerge.target(
            duplicate: dupRecord.merging(["id": .text(duplicate)]) { a, _ in a },
            keep: keepRecord.merging(["id": .text(kept)]) { a, _ in a }, groups: groups)
        try central.write { tx in try tx.editFamily(duplicate, ["merged_into": .text(target)]) }
        let verdict = try DeliveryLedger(central).verdict(
            for: NewDelivery(
                city: "Fès", family: duplicate, item: "food_pack", campaign: "phase-1", deliveredAt: day0 + 2000,
                volunteer: "v"))
        #expect(verdict.family == kept)
        #expect(verdict.breaches.map(\.rule.id) == ["campaign:phase-1"])
        #expect(verdict.evidence.map(\.family) == [kept])
    }

    @Test func mergeChainsAndCyclesResolveToOneFamily() {
        let groups = FamilyGroups(mergedInto: ["b": "a", "c": "b", "x": "y", "y": "x"])
        #expect(groups.root("c") == "a")
        #expect(groups.members(of: "a") == ["a", "b", "c"])
        #expect(groups.root("x") == "x" && groups.root("y") == "x")
        #expect(groups.members(of: "x") == ["x", "y"])
    }
}

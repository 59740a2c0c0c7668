import FieldDomain
import Foundation
import SyncCore
import Testing

/// Random delivery histories (two offline devices, a central, merges, voids, two campaigns, rules): the
/// device refuses exactly what the report then calls a breach, and a merged family is one family at
/// every node.
@Suite("Entitlement histories")
struct EntitlementPropertyTests {
    static let histories = 1000
    static let baseSeed: UInt64 =
        ProcessInfo.processInfo.environment["FIELDSYNC_SEED"].flatMap { UInt64($0) } ?? 20_261_206

    /// What a device knew when it decided on a delivery.
    struct Logged {
        var id: String
        var refused: Bool
        /// The deliveries its verdict counted from (the family group's, not voided).
        var prior: Set<String>
        var members: Set<String>
    }

    struct Totals {
        var logged = 0
        var compared = 0
        var comparedRefused = 0
        var breaches = 0
        var merges = 0
    }

    @Test func theDeviceRefusesExactlyWhatTheReportCallsABreach() throws {
        var totals = Totals()
        for index in 0..<Self.histories {
            let seed = Self.baseSeed &+ UInt64(index)
            do {
                try run(seed: seed, totals: &totals)
            } catch {
                Issue.record("history \(seed) (FIELDSYNC_SEED=\(seed)): \(error)")
                return
            }
        }
        // Not vacuous: many deliveries were decided with the knowledge the report has, refusals among them.
        #expect(totals.compared >= 1000, "\(totals)")
        #expect(totals.comparedRefused > 200, "\(totals)")
        #expect(totals.merges > 300, "\(totals)")
    }

    func run(seed: UInt64, totals: inout Totals) throws {
        var rng = SplitMix64(seed: seed)
        let clock = TestClock(day0 + 3_600_000)
        let clocks = [clock, clock, clock]
        let central = try programme(clock: clocks[0])
        let ruleWindow = Int.random(in: 1...10, using: &rng)
        try central.write { tx in
            try tx.setRule(item: "internet_recharge", campaign: nil, max: 3, windowDays: ruleWindow)
            if Bool.random(using: &rng) { try tx.setRule(item: "food_pack", campaign: nil, max: 1, windowDays: nil) }
        }
        let families = try central.write { tx in
            try (0..<4).map { try tx.addFamily(NewFamily(city: "Fès", reference: "FES-\($0)", headName: "H\($0)")) }
        }
        let devices = try (1...2).map { try domainReplica(clock: clocks[$0], node: Int64(10 + $0)) }
        var pushed = [FeedCursor](repeating: .start, count: 2)
        var pulled = [FeedCursor](repeating: .start, count: 2)
        func sync(_ i: Int) throws {
            #expect(
                try push(
                    from: devices[i], to: central, scope: "Fès", since: pushed[i],
                    others: Set(devices.map(\.nodeID)).subtracting([devices[i].nodeID])
                ).isEmpty)
            pushed[i] = try devices[i].changes(since: pushed[i], limit: 100_000).cursor
            pulled[i] = try copyChanges(from: central, into: devices[i], since: pulled[i])
        }
        for i in 0..<2 { try sync(i) }
        var logged: [Logged] = []
        for _ in 0..<Int.random(in: 8...24, using: &rng) {
            let i = Int.random(in: 0..<2, using: &rng)
            let device = devices[i]
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<5:
                let now = clocks[i + 1].nowMillis()
                let day = (now - day0) / dayMillis
                let campaign = day < 30 ? "phase-1" : (40...70).contains(day) ? "phase-2" : nil
                guard let campaign else { continue }
                let items =
                    campaign == "phase-1"
                    ? ["food_pack", "connectivity_pack", "internet_recharge"] : ["food_pack", "internet_recharge"]
                let delivery = NewDelivery(
                    city: "Fès", family: families.randomElement(using: &rng)!, item: items.randomElement(using: &rng)!,
                    quantity: Int.random(in: 1...2, using: &rng), campaign: campaign, deliveredAt: now,
                    volunteer: "v\(i)")
                let ledger = DeliveryLedger(device)
                let verdict = try ledger.verdict(for: delivery)
                let refused = !verdict.breaches.isEmpty
                if refused, Bool.random(using: &rng) { continue }  // the volunteer does not override
                let groups = try ledger.familyGroups()
                let members = groups.members(of: groups.root(delivery.family))
                let prior = Set(try ledger.deliveries(of: members).map(\.id))
                let id = try device.write { tx in try tx.logDelivery(delivery) }
                logged.append(Logged(id: id, refused: refused, prior: prior, members: members))
            case 5:
                let known = try DeliveryLedger(device).deliveries()
                guard let victim = known.randomElement(using: &rng) else { continue }
                try device.write { tx in
                    try tx.voidDelivery(
                        victim.id, city: "Fès", reason: "mistake", volunteer: "v\(i)", at: clocks[i + 1].nowMillis())
                }
            case 6:
                let (a, b) = (families.randomElement(using: &rng)!, families.randomElement(using: &rng)!)
                let groups = try DeliveryLedger(central).familyGroups()
                guard groups.root(a) != groups.root(b) else { continue }
                var dup = try #require(try central.records.record("families", id: a))
                var keep = try #require(try central.records.record("families", id: b))
                dup["id"] = .text(a)
                keep["id"] = .text(b)
                let target = try FamilyMerge.target(duplicate: dup, keep: keep, groups: groups)
                try central.write { tx in try tx.editFamily(a, ["merged_into": .text(target)]) }
                totals.merges += 1
            case 7, 8:
                try sync(i)
            default:
                clocks[i + 1].advance(UInt64.random(in: 1...(3 * dayMillis), using: &rng))
            }
        }
        for _ in 0..<2 { for i in 0..<2 { try sync(i) } }
        try check(central: central, devices: devices, logged: logged, families: families, totals: &totals)
    }

    func check(central: Replica, devices: [Replica], logged: [Logged], families: [String], totals: inout Totals) throws
    {
        let report = try Report(central, now: Int64(day0))
        let flagged = Set(report.breaches.map(\.delivery))
        totals.breaches += flagged.count
        let ledger = DeliveryLedger(central)
        let groups = try ledger.familyGroups()
        let all = try ledger.deliveries()
        let position = Dictionary(all.enumerated().map { ($1.id, $0) }) { first, _ in first }
        let byID = Dictionary(all.map { ($0.id, $0) }) { first, _ in first }
        for entry in logged {
            totals.logged += 1
            guard let index = position[entry.id], let delivery = byID[entry.id] else { continue }  // voided
            let members = groups.members(of: groups.root(delivery.family))
            let prior = Set(all[..<index].filter { members.contains($0.family) }.map(\.id))
            if prior == entry.prior && members == entry.members {
                totals.compared += 1
                if entry.refused { totals.comparedRefused += 1 }
                #expect(entry.refused == flagged.contains(entry.id), "delivery \(entry.id)")
            } else if entry.refused && prior.isSuperset(of: entry.prior) && members.isSuperset(of: entry.members) {
                // It knew less than the report: what it refused, the report still calls a breach.
                #expect(flagged.contains(entry.id), "refused delivery \(entry.id)")
            }
        }
        // A merged family is one family everywhere: every node groups the cards alike and gives one verdict.
        for device in devices {
            let deviceGroups = try DeliveryLedger(device).familyGroups()
            for family in families { #expect(deviceGroups.root(family) == groups.root(family)) }
        }
        for family in families {
            for item in ["food_pack", "internet_recharge"] {
                let probe = NewDelivery(
                    city: "Fès", family: family, item: item, campaign: "phase-1", deliveredAt: day0 + dayMillis,
                    volunteer: "probe")
                let verdicts = try ([central] + devices).map { node in
                    let verdict = try DeliveryLedger(node).verdict(for: probe)
                    return "\(verdict.family) \(verdict.breaches.map { "\($0.rule.id):\($0.total)" })"
                }
                #expect(Set(verdicts).count == 1, "\(verdicts)")
            }
        }
        for breach in report.breaches { #expect(groups.root(breach.family) == breach.family) }
    }
}

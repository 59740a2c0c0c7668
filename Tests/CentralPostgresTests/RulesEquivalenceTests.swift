import CentralPostgres
import FieldDomain
import Foundation
import SyncCore
import Testing

/// The domain's rules give the same verdicts on PostgreSQL as on SQLite: devices of two cities and the
/// admin push random batches of the full FieldSync schema (the catalogue's items, active or not; campaigns
/// with their windows and items, some malformed; associations of each city; families and deliveries naming
/// them, some of another city; voids, distinct families, entitlements), with their lease moves. Each push
/// gets the same report (refusals, their texts, whether each stays) or the same error; both stores dump
/// the same, and each device's feed is the same.
@Suite("PostgreSQL domain rules", .postgresCluster)
struct RulesEquivalenceTests {
    static let now = MergeEquivalenceTests.now

    @Test(arguments: 0..<4)
    func randomPushesGetTheSameVerdictsOnBothEngines(part: Int) async throws {
        try await withTestDatabase { database in
            let postgres = try await PostgresStore(database, schema: .fieldSync)
            let sqlite = try ReplicaStore(sqliteCentral(.fieldSync))
            var generator = RulesBatchGenerator(seed: 70_000 + UInt64(part))
            let clients: [(node: NodeID, scope: String?)] = [
                (MergeBatchGenerator.nodes[0], "Fès"), (MergeBatchGenerator.nodes[1], "Rabat"),
                (MergeBatchGenerator.nodes[2], nil),
            ]
            var leases: [NodeID: UInt64] = [:]
            var refusals: [String: Int] = [:]
            var applied = 0
            for step in 0..<150 {
                // The admin sets up the catalogue and campaigns more often at first.
                let client = clients[step < 20 && generator.base.next(2) == 0 ? 2 : generator.base.next(clients.count)]
                let next = UInt64(step + 1)
                let push = ClientPush(
                    batch: ClientPushEquivalenceTests.stampedBy(client.node, generator.batch(scope: client.scope)),
                    client: client.node, scope: client.scope,
                    lease: LeaseMove(
                        Lease(previous: leases[client.node], next: next), node: client.node, now: Self.now),
                    pruneEchoBelow: nil, now: Self.now)
                let expected = await ClientPushEquivalenceTests.result { try await sqlite.apply(push) }
                let actual = await ClientPushEquivalenceTests.result { try await postgres.apply(push) }
                switch (expected, actual) {
                case (.success(let expected), .success(let actual)):
                    #expect(actual == expected, "part \(part) step \(step)")
                    leases[client.node] = next
                    applied += 1
                    for refusal in expected.refused {
                        refusals[refusal.field ?? refusal.code.rawValue, default: 0] += 1
                    }
                case (.failure(let expected as SyncError), .failure(let actual as SyncError)):
                    #expect(actual.code == expected.code, "part \(part) step \(step)")
                    #expect(actual.message == expected.message, "part \(part) step \(step)")
                default:
                    Issue.record("part \(part) step \(step): SQLite \(expected), PostgreSQL \(actual)")
                    return
                }
            }
            #expect(try await postgres.dump() == sqlite.replica.dump(), "part \(part)")
            for client in clients {
                let filter = FeedFilter(
                    scope: client.scope, excludingEchoOf: ClientPush.peerKey(client: client.node))
                let expected = try sqlite.replica.changes(since: .start, limit: 100_000, filter: filter)
                let page = try await postgres.changes(since: .start, limit: 100_000, filter: filter)
                #expect(page.batch == expected.batch, "part \(part): the feed of \(client.node)")
            }
            // The rules were met: refusals on the item, the campaign, the association and the campaign's items.
            #expect(applied > 100, "part \(part): \(applied) pushes applied")
            for field in ["item", "campaign", "association", "items"] {
                #expect(refusals[field, default: 0] > 0, "part \(part): no refusal on \(field): \(refusals)")
            }
        }
    }

    /// Past ``PostgresRuleReads/wholeCollectionBound`` items, the rules' reads go by id and by the first
    /// records in id order (bytes, as SQLite orders them: `-` before digits before `_` before letters).
    @Test func aCatalogueTooLargeToReadWholeGivesTheSameVerdicts() async throws {
        try await withTestDatabase { database in
            let postgres = try await PostgresStore(database, schema: .fieldSync)
            let sqlite = try ReplicaStore(sqliteCentral(.fieldSync))
            let admin = MergeBatchGenerator.nodes[2]
            let device = MergeBatchGenerator.nodes[0]
            let stamp = Stamp(hlc: HLCTimestamp(millis: MergeEquivalenceTests.t0, counter: 0), node: admin)
            let codes =
                (0..<1_100).map { "x\($0 % 3 == 0 ? "-" : $0 % 3 == 1 ? "_" : "")\($0)" } + ["a-b", "a_b", "a0"]
            var items = CollectionChanges(name: "items", fields: ["name_fr", "active"])
            for code in codes {
                items.records.append(
                    RecordChange(
                        id: code, stamp: stamp,
                        cells: [Cell(field: 0, value: .text(code)), Cell(field: 1, value: .integer(1))]))
            }
            var pushes = [
                ClientPush(
                    batch: ChangeBatch([items]), client: admin, scope: nil, lease: nil, pruneEchoBelow: nil,
                    now: Self.now)
            ]
            var deliveries = CollectionChanges(
                name: "deliveries", fields: ["city", "family", "item", "quantity", "delivered_at", "volunteer"])
            for (index, item) in ["x_1", "nope", "a0", "x-999", "food_pack"].enumerated() {
                deliveries.records.append(
                    RecordChange(
                        id: "D\(index)", stamp: Stamp(hlc: stamp.hlc, node: device),
                        cells: [
                            Cell(field: 0, value: "Fès"), Cell(field: 1, value: "F1"),
                            Cell(field: 2, value: .text(item)),
                            Cell(field: 3, value: .integer(1)),
                            Cell(field: 4, value: .integer(Int64(MergeEquivalenceTests.t0))),
                            Cell(field: 5, value: "Amina"),
                        ]))
            }
            pushes.append(
                ClientPush(
                    batch: ChangeBatch([deliveries]), client: device, scope: "Fès", lease: nil, pruneEchoBelow: nil,
                    now: Self.now))
            for push in pushes {
                let expected = try await sqlite.apply(push)
                let actual = try await postgres.apply(push)
                #expect(actual == expected)
            }
            let refused = try await sqlite.apply(pushes[1]).refused
            #expect(refused.map(\.id) == ["D1", "D4"], "\(refused)")
            #expect(try await postgres.dump() == sqlite.replica.dump())
        }
    }

    /// A push whose every record names another missing association (or item) is merged in a few passes
    /// over the batch, not one per record: the ids the batch touches are known absent once read, and each
    /// pass reads everything it missed at once. (One pass per record held the feed's lock for minutes on
    /// 10,000 such records: every other writer waited.)
    @Test func missingRecordsCostAFewPassesNotOnePerRecord() async throws {
        try await withTestDatabase { database in
            let store = try await PostgresStore(database, schema: .fieldSync)
            let device = MergeBatchGenerator.nodes[0]
            var deliveries = CollectionChanges(
                name: "deliveries",
                fields: ["city", "family", "item", "quantity", "delivered_at", "volunteer", "association"])
            for index in 0..<900 {  // all refused: within the 1,000 a push may have
                deliveries.records.append(
                    RecordChange(
                        id: "D\(index)",
                        stamp: Stamp(hlc: HLCTimestamp(millis: MergeEquivalenceTests.t0, counter: 0), node: device),
                        cells: [
                            Cell(field: 0, value: "Fès"), Cell(field: 1, value: "F1"),
                            Cell(field: 2, value: index % 2 == 0 ? "food_pack" : .text("item-\(index)")),
                            Cell(field: 3, value: .integer(1)),
                            Cell(field: 4, value: .integer(Int64(MergeEquivalenceTests.t0))),
                            Cell(field: 5, value: "Amina"),
                            Cell(field: 6, value: .text("missing-\(index)")),
                        ]))
            }
            let batch = ChangeBatch([deliveries])
            let plan = try BatchPlan(batch, schema: .fieldSync, sender: device, scope: "Fès")
            let passes = try await database.withTransaction { connection in
                try await store.merge(
                    batch, plan: plan, from: ClientPush.peerKey(client: device), scope: "Fès", now: Self.now,
                    connection: connection, before: { _ in }
                ).passes
            }
            #expect(passes <= 3, "\(passes) passes")
        }
    }
}

/// Random batches of the whole FieldSync schema over a few ids of each collection, with values that break
/// the domain's rules now and then (an item not in the catalogue, a campaign closed on the delivery's day
/// or not giving its item, an association of another city, a family merged into itself…).
struct RulesBatchGenerator {
    var base: MergeBatchGenerator

    init(seed: UInt64) { base = MergeBatchGenerator(seed: seed) }

    static let day: UInt64 = 86_400_000
    static let items = ["food_pack", "connectivity_pack", "internet_recharge", "soap", "Bad Code"]
    static let campaigns = ["phase-1", "phase-2", "ramadan", "none"]
    static let associations = ["A1", "A2", "A3"]
    static let cities = ["Fès", "Rabat"]

    mutating func pick<T>(_ values: [T]) -> T { values[base.next(values.count)] }

    /// A day around the clock's (campaign windows and deliveries fall on either side).
    mutating func time() -> Value { .integer(Int64(MergeEquivalenceTests.t0) + Int64(base.next(9)) * 86_400_000 / 2) }

    mutating func batch(scope: String?) -> ChangeBatch {
        var groups: [String: CollectionChanges] = [:]
        for _ in 0..<(1 + base.next(4)) {
            let (name, fields, id, values) = record(scope: scope)
            let stamp = base.stamp()
            var group = groups[name] ?? CollectionChanges(name: name, fields: fields)
            guard !group.records.contains(where: { $0.id == id }) else { continue }
            let cells = fields.indices.compactMap { index -> Cell? in
                values[index].map { Cell(field: index, value: $0) }
            }
            group.records.append(RecordChange(id: id, stamp: stamp, cells: cells))
            groups[name] = group
        }
        return ChangeBatch(groups.keys.sorted().map { groups[$0]! })
    }

    /// One record: its collection, the group's fields, its id and its values (nil: not sent).
    mutating func record(scope: String?) -> (String, [String], String, [Value?]) {
        let city: Value = .text(scope ?? pick(Self.cities))
        switch base.next(scope == nil ? 9 : 6) {
        case 0, 1:
            let fields = ["city", "reference", "head_name", "association", "merged_into"]
            let id = "F\(base.next(6))"
            let association: Value? = base.next(2) == 0 ? .text(pick(Self.associations)) : .none
            let merged: Value? = base.next(6) == 0 ? .text(base.next(2) == 0 ? id : "F\(base.next(6))") : .none
            return (
                "families", fields, id, [city, .text("R-\(id)"), .text("Famille \(id) — عائلة"), association, merged]
            )
        case 2, 3:
            let fields = ["city", "family", "item", "quantity", "campaign", "delivered_at", "volunteer", "association"]
            let campaign = pick(Self.campaigns)
            return (
                "deliveries", fields, "D\(base.next(40))",
                [
                    city, .text("F\(base.next(6))"), .text(pick(Self.items)), .integer(1),
                    campaign == "none" ? .none : .text(campaign), time(), "Amina",
                    base.next(3) == 0 ? .text(pick(Self.associations)) : .none,
                ]
            )
        case 4:
            return (
                "delivery_voids", ["city", "delivery", "reason", "volunteer", "voided_at"], "V\(base.next(10))",
                [city, .text("D\(base.next(40))"), "erreur", "Amina", time()]
            )
        case 5:
            let (family, other) = ("F\(base.next(6))", "F\(base.next(6))")
            return (
                "distinct_families", ["city", "family", "other"], [family, other].sorted().joined(separator: "+"),
                [city, .text(family), .text(other)]
            )
        case 6:
            return ("associations", ["name", "city"], pick(Self.associations), ["Association", city])
        case 7:
            let item = pick(Self.items)
            return (
                "items", ["name_fr", "active"], item, [.text("Article \(item)"), .integer(base.next(4) == 0 ? 0 : 1)]
            )
        default:
            let start = time()
            let end: Value =
                base.next(5) == 0
                ? .integer(start.integerValue! - 1)
                : .integer(start.integerValue! + Int64(base.next(6)) * Int64(Self.day))
            let items = [
                "food_pack", "food_pack,internet_recharge:1", "connectivity_pack:2", "soap", "food_pack,food_pack",
                "internet_recharge:5000",
            ]
            return (
                "campaigns", ["name", "starts_at", "ends_at", "items"], pick(Array(Self.campaigns.prefix(3))),
                ["Campagne", start, end, .text(pick(items))]
            )
        }
    }
}

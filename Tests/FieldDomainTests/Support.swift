import FieldDomain
import SyncCore
import Synchronization

/// A wall clock the test sets by hand.
final class TestClock: PhysicalClock {
    private let millis: Mutex<UInt64>

    init(_ millis: UInt64) { self.millis = Mutex(millis) }

    func nowMillis() -> UInt64 { millis.withLock { $0 } }
    func advance(_ delta: UInt64) { millis.withLock { $0 += delta } }
}

/// 2026-12-06, the tests' day one.
let day0: UInt64 = 1_796_515_200_000
let dayMillis: UInt64 = 86_400_000

func domainReplica(clock: TestClock = TestClock(day0), node: Int64? = nil) throws -> Replica {
    var configuration = ReplicaConfiguration()
    configuration.clock = clock
    configuration.nodeID = node.flatMap(NodeID.init(rawValue:))
    configuration.durability = .off
    return try Replica(inMemory: .fieldSync, configuration: configuration)
}

/// Copies every change of `source` after `cursor` into `target` (as an upstream's pull: not re-checked).
@discardableResult
func copyChanges(from source: Replica, into target: Replica, since cursor: FeedCursor = .start) throws -> FeedCursor {
    var cursor = cursor
    while true {
        let page = try source.changes(since: cursor, limit: 1000)
        if !page.batch.isEmpty { try target.apply(page.batch) }
        cursor = page.cursor
        if !page.hasMore { return cursor }
    }
}

/// `source`'s own changes after `cursor` (not those it pulled from `others`), pushed to a server's `target`
/// as a client of `scope` (checked).
func push(
    from source: Replica, to target: Replica, scope: String? = nil, since cursor: FeedCursor = .start,
    others: Set<NodeID> = []
) throws -> [Refusal] {
    var refusals: [Refusal] = []
    var cursor = cursor
    let filter = FeedFilter(excludingOrigins: others.union([target.nodeID]))
    while true {
        let page = try source.changes(since: cursor, limit: 1000, filter: filter)
        if !page.batch.isEmpty {
            refusals += try target.apply(
                page.batch, from: "device-\(source.nodeID)", sender: source.nodeID, scope: scope, fromClient: true
            ).refused
        }
        cursor = page.cursor
        if !page.hasMore { return refusals }
    }
}

/// A central replica with the catalogue, two campaigns (phase-1 open on day 0 for 30 days, phase-2 from
/// day 40), an association in Fès and one in Rabat.
func programme(clock: TestClock = TestClock(day0)) throws -> Replica {
    let central = try domainReplica(clock: clock, node: 1)
    try central.setItem(Item(code: "food_pack", nameFR: "Panier alimentaire", nameAR: "قفة غذائية"))
    try central.write { tx in
        try tx.setCampaign(
            Campaign(
                code: "phase-1", name: "Phase 1", phase: 1, startsAt: Int64(day0),
                endsAt: Int64(day0 + 30 * dayMillis) - 1,
                items: ["food_pack": 1, "connectivity_pack": 1, "internet_recharge": 3]))
        try tx.setCampaign(
            Campaign(
                code: "phase-2", name: "Phase 2", phase: 2, startsAt: Int64(day0 + 40 * dayMillis),
                endsAt: Int64(day0 + 70 * dayMillis), items: ["food_pack": 1, "internet_recharge": nil]))
        try tx.addAssociation(name: "Amal", city: "Fès", id: "amal")
        try tx.addAssociation(name: "Nour", city: "Rabat", id: "nour")
    }
    return central
}

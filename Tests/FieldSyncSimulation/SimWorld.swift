import FieldDomain
package import Foundation
import GRDB
package import Logging
package import SyncCore

/// A simulated run: central, two hubs and their devices, each a real ``Replica`` on a file, syncing with
/// the real ``SyncSession`` and ``SyncService`` over a ``SimTransport``. Central's store is the factory's
/// (``SimCentral``): an SQLite replica on a file by default, or another engine's store.
///
/// Deterministic: the clocks are manual, every random draw comes from the seed, and the network decides
/// its faults per exchange. No wall clock, no global generator.
package final class SimWorld {
    static let upstream = "upstream"
    static let t0: UInt64 = 1_780_000_000_000
    package static let quiet = Logger(label: "sim", factory: { _ in SwiftLogNoOpLogHandler() })
    /// `FIELDSYNC_SIM_TRACE=1`: print what each sync did (replaying one seed).
    static let tracing = ProcessInfo.processInfo.environment["FIELDSYNC_SIM_TRACE"] != nil

    package let scenario: SimScenario
    let directory: URL
    /// Node 0.
    private(set) var central: (any SimCentral)!
    private(set) var now = t0
    private var skews: [Int64]
    let clocks: [SimClock]
    private let randoms: [SimRandom]
    private(set) var replicas: [Replica?]
    private var up: [Bool]
    private var requestLogs: [SimRequestLog]
    let crashes = SimCrashPlan()
    /// How many times each device was replaced by a restored backup.
    private(set) var epochs: [Int]
    /// Every node id each node has had (its own, a restored copy's, new ones after a duplicate).
    private(set) var lineage: [Set<NodeID>]
    private(set) var writes: [SimTrackedWrite] = []
    private(set) var restores = 0
    /// Violations seen before the end (a write lost before its phone was replaced).
    private(set) var earlyViolations: [String] = []
    private(set) var faultsMet = 0
    private(set) var crashesMet = 0
    /// What the attacks sent, to check at the end.
    var attacks: [SimAttackRecord] = []
    /// Families the admin moved to another city.
    var moved: Set<String> = []
    /// The hand-outs of recharge codes, for the voucher runs' checks.
    let vouchers = SimVoucherLog()

    package init(_ scenario: SimScenario, central factory: SimCentralFactory = SimReplicaCentral.factory) throws {
        self.scenario = scenario
        // Memory-backed files where there are (Linux): the simulation opens and copies many small files.
        if FileManager.default.isWritableFile(atPath: "/dev/shm") {
            directory = URL(fileURLWithPath: "/dev/shm/fieldsync-sim-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } else {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "fieldsync-sim-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }
        let count = scenario.nodeCount
        skews = Array(repeating: 0, count: count)
        clocks = (0..<count).map { _ in SimClock(Self.t0) }
        randoms = (0..<count).map { SimRandom(seed: scenario.seed &* 0x9E37_79B9 &+ UInt64($0) &* 7919 &+ 1) }
        replicas = Array(repeating: nil, count: count)
        up = Array(repeating: true, count: count)
        requestLogs = (0..<count).map { _ in SimRequestLog() }
        epochs = Array(repeating: 0, count: count)
        lineage = Array(repeating: [], count: count)
        let random = randoms[0]
        central = try factory(
            SimCentralContext(
                directory: directory, clock: clocks[0], nodeID: NodeID(rawValue: 1_000_003)!,
                random: { random.next() }, logger: Self.quiet))
        lineage[0].insert(central.nodeID)
        for node in 1..<count {
            replicas[node] = try open(node, id: NodeID(rawValue: Int64(node + 1) * 1_000_003)!)
            lineage[node].insert(replica(node).nodeID)
        }
        if scenario.vouchers { try importVouchers() }
    }

    deinit {
        central?.close()
        central = nil
        replicas = []
        try? FileManager.default.removeItem(at: directory)
    }

    /// The replica of a hub or a device (central's is ``central``).
    func replica(_ node: Int) -> Replica { replicas[node]! }

    /// The node id of any node.
    func nodeID(_ node: Int) -> NodeID { node == 0 ? central.nodeID : replica(node).nodeID }

    /// Central's records, as its dump shows them.
    func centralRecords() throws -> SimRecords { try SimRecords(dump: central.dump()) }

    /// The service `server` answers its clients with.
    func service(of server: Int) throws -> SyncService {
        server == 0
            ? SyncService(store: try central.store(), logger: Self.quiet)
            : try SyncService(replica: replica(server), logger: Self.quiet)
    }

    func path(_ node: Int) -> String { directory.appendingPathComponent("n\(node).sqlite").path }

    private func open(_ node: Int, id: NodeID? = nil) throws -> Replica {
        var configuration = ReplicaConfiguration()
        configuration.clock = clocks[node]
        configuration.durability = .off
        configuration.cacheSizeMiB = 1
        configuration.nodeID = id
        let random = randoms[node]
        configuration.random = { random.next() }
        let crashes = self.crashes
        configuration.applyWillCommit = { peer in try crashes.willCommit(peer: peer) }
        return try Replica(path: path(node), schema: .fieldSync, configuration: configuration, logger: Self.quiet)
    }

    /// The server `node` syncs with: central for a hub, its city's hub for a device.
    func server(of node: Int) -> Int {
        node <= 2 ? 0 : SimScenario.cities.firstIndex(of: scenario.city(node)!)! + 1
    }

    // MARK: Events

    /// Runs one event. Throws only when the harness itself fails (not for a fault it injected).
    func run(_ event: SimEvent) throws {
        switch event {
        case .write(let node, let write): try perform(write, on: node)
        case .sync(let node, let faults, let rate): _ = try sync(node, faults: faults, rate: rate)
        case .link(let node, let isUp): up[node] = isUp
        case .skew(let node, let millis):
            skews[node] = millis
            setClocks()
        case .tick(let millis):
            now += millis
            setClocks()
        case .crash(let node): try restart(node)
        case .restore(let node, let source): try restore(node, from: source)
        case .attack(let attack): try self.attack(attack)
        case .move(let pick): try move(pick)
        case .voucher(let event): try run(event)
        }
    }

    private func setClocks() {
        for (node, clock) in clocks.enumerated() {
            clock.set(UInt64(max(0, Int64(now) + skews[node])))
        }
    }

    /// The process of `node` dies and starts again from its file.
    func restart(_ node: Int) throws {
        crashesMet += 1
        guard node > 0 else { return try central.restart() }
        replicas[node] = nil
        replicas[node] = try open(node)
    }

    /// Syncs `node` with its server; returns what moved, or nil when the sync failed (the error is
    /// returned through `failure`).
    @discardableResult
    func sync(
        _ node: Int, faults: UInt64 = 0, rate: Int = 0, failure: ((any Error) -> Void)? = nil
    ) throws
        -> SyncSummary?
    {
        guard node >= 1 else { return nil }
        let server = server(of: node)
        let principal = Principal(
            role: node <= 2 ? .hub : .device, city: scenario.city(node),
            name: node <= 2 ? "hub-\(node)" : "device-\(node)"
        )
        let transport = SimTransport(
            service: try service(of: server), clock: clocks[server], principal: principal,
            crashes: crashes, earlier: requestLogs[node], faults: faults, rate: rate,
            up: up[node])
        crashes.reset()
        var session = SyncSession(replica: replica(node), transport: transport, peer: Self.upstream, logger: Self.quiet)
        session.batchSize = 4
        let random = randoms[node]
        session.makeLease = { random.next() | 1 }
        session.makeNodeID = { random.nodeID() }
        var summary: SyncSummary?
        var failed: (any Error)?
        do {
            summary = try session.run()
        } catch {
            failed = error
            failure?(error)
        }
        if Self.tracing {
            let outcome = summary.map {
                "pushed \($0.pushed) pulled \($0.pulled) trips \($0.roundTrips) repaired \($0.repairedStamps)"
                    + ($0.newNodeID.map { " new id \($0)" } ?? "")
            }
            print(
                "  sync n\(node) → n\(server): \(outcome ?? "failed: \(failed.map { "\($0)" } ?? "?")")"
                    + (transport.faults.isEmpty ? "" : " faults \(transport.faults)"))
        }
        faultsMet += transport.faults.count
        lineage[node].insert(replica(node).nodeID)
        if transport.crashed { try restart(node) }
        return summary
    }

    // MARK: Writes

    private func liveFamilies(_ replica: Replica) throws -> [String] {
        try replica.read { db in
            try String.fetchAll(db, sql: "SELECT id FROM families WHERE _deleted IS NULL ORDER BY id")
        }
    }

    private func perform(_ write: SimWrite, on node: Int) throws {
        guard node >= 3 else { return }
        let replica = replica(node)
        let city = scenario.city(node)!
        let families = try liveFamilies(replica)
        var tracked: [SimTrackedWrite] = []
        func track(_ collection: String, _ id: String, _ field: String, _ value: Value) {
            tracked.append(
                SimTrackedWrite(
                    node: node, epoch: epochs[node], writer: replica.nodeID, collection: collection, id: id,
                    field: field, value: value, sequence: 0))
        }
        do {
            switch write {
            case .addFamily(let tag):
                let id = try replica.write { tx in
                    try tx.addFamily(NewFamily(city: city, reference: "R\(tag)", headName: "Head #\(tag)"))
                }
                track("families", id, "head_name", .text("Head #\(tag)"))
            case .edit(let pick, let field, let tag):
                guard !families.isEmpty else { return }
                let id = families[pick % families.count]
                let name = SimWrite.fields[field]
                let value: Value = name == "household_size" ? .integer(Int64(tag) + 1) : .text("\(name) #\(tag)")
                try replica.write { tx in try tx.editFamily(id, [name: value]) }
                track("families", id, name, value)
            case .delete(let pick):
                guard !families.isEmpty else { return }
                let id = families[pick % families.count]
                try replica.write { tx in try tx.deleteFamily(id) }
                track("families", id, "_deleted", .integer(1))
            case .deliver(let pick, let item):
                guard !families.isEmpty else { return }
                let family = families[pick % families.count]
                let at = clocks[node].nowMillis()
                let id = try replica.write { tx in
                    try tx.logDelivery(
                        NewDelivery(
                            city: city, family: family, item: DeliveryItem.allCases[item % DeliveryItem.allCases.count],
                            quantity: 1, campaign: "c1", deliveredAt: at, volunteer: "n\(node)"))
                }
                track("deliveries", id, "*", .null)
            case .void(let pick):
                let deliveries = try replica.read { db in
                    try String.fetchAll(db, sql: "SELECT id FROM deliveries ORDER BY id")
                }
                guard !deliveries.isEmpty else { return }
                let delivery = deliveries[pick % deliveries.count]
                let id = try replica.write { tx in
                    try tx.voidDelivery(
                        delivery, city: city, reason: "wrong family", volunteer: "n\(node)",
                        at: clocks[node].nowMillis())
                }
                track("delivery_voids", id, "*", .null)
            }
        } catch let error as SyncError where error.code == .deleted || error.code == .notFound {
            return  // the family went away under the volunteer's feet (a pulled delete): nothing was written
        }
        let head = try replica.headCursor().position
        writes += tracked.map { write in
            var write = write
            write.sequence = head
            return write
        }
    }

    // MARK: Backups

    /// Replaces device `node` by a copy of device `source`'s file: `node`'s writes that its hub never
    /// acknowledged go with the old phone; the copy holds `source`'s node id.
    /// `backup`: a file of `node`'s own taken earlier (``SimVoucherEvent/restoreBackup(device:)``), instead
    /// of `source`'s current one.
    func restore(_ node: Int, from source: Int, backup: String? = nil) throws {
        guard node != source || backup != nil, node >= 3, source >= 3, scenario.city(node) == scenario.city(source)
        else { return }
        let old = replica(node)
        let acknowledged = try old.peerState(Self.upstream).pushed.base
        var kept: [SimTrackedWrite] = []
        for write in writes {
            guard write.node == node, write.epoch == epochs[node] else {
                kept.append(write)
                continue
            }
            // Never acknowledged: it goes with the old phone.
            guard write.sequence <= acknowledged else { continue }
            // Already replaced on the phone by a later write: it must be in the phone's history now.
            if write.field != "*", write.field != "_deleted",
                try old.record(write.collection, id: write.id)?[write.field] != write.value
            {
                let inHistory = try old.history(collection: write.collection, recordID: write.id).contains {
                    $0.field == write.field && $0.value == write.value && $0.winner > $0.stamp
                }
                if !inHistory {
                    earlyViolations.append(
                        "lost write: n\(node) \(write.collection)/\(write.id) \(write.field)=\(write.value) "
                            + "replaced before the backup restore without history")
                }
                continue
            }
            var wiped = write
            wiped.wiped = true
            kept.append(wiped)
        }
        writes = kept
        vouchersRestored(node, from: source, acknowledged: acknowledged)
        try replica(source).checkpoint()
        replicas[node] = nil
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path(node) + suffix) }
        try FileManager.default.copyItem(atPath: backup ?? path(source), toPath: path(node))
        epochs[node] += 1
        replicas[node] = try open(node)
        lineage[node].insert(replica(node).nodeID)
        restores += 1
    }

    // MARK: Healing

    /// Every link up, no faults: devices, hubs, hubs, devices, until a whole round moves nothing.
    /// Returns the errors of syncs that failed (none should).
    package func heal() throws -> [String] {
        for node in up.indices { up[node] = true }
        var errors: [String] = []
        let devices = Array(3..<scenario.nodeCount)
        for _ in 0..<12 {
            var moved = 0
            for node in devices + [1, 2, 1, 2] + devices {
                let summary = try sync(node) { error in errors.append("n\(node): \(error)") }
                moved += (summary?.pushed ?? 0) + (summary?.pulled ?? 0) + (summary?.newNodeID == nil ? 0 : 1)
                now += 1
                setClocks()
            }
            if moved == 0 || !errors.isEmpty { return errors }
        }
        return errors + ["no quiescence after 12 rounds"]
    }
}

/// A write the checks look for at the end: current, or displaced under a greater stamp and kept.
struct SimTrackedWrite {
    var node: Int
    var epoch: Int
    /// The node id that wrote it (its stamp may move later: clock repair, a new node id).
    var writer: NodeID
    var collection: String
    var id: String
    /// "*" for a fact (the whole record), "_deleted" for a delete.
    var field: String
    var value: Value
    /// The writer's feed head after the write: acknowledged once its push position reaches it.
    var sequence: Int64
    /// The device was replaced by a restored backup after this write was acknowledged.
    var wiped = false
}

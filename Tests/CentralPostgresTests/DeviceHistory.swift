import SyncCore

/// A seed's pushes to central: a device of each city and the admin push batches of
/// ``MergeBatchGenerator`` (with voids) stamped by themselves, with their lease moves; at random a device
/// is restored from an earlier copy of itself.
///
/// The restored device holds the lease of its backup's last push, and the batch it had written but not
/// pushed then: it pushes that batch again under the old lease (a duplicated node, nothing applied), takes
/// a new node id (no lease yet) and pushes the batch again, stamped by its new id. The caller applies each
/// push to both centrals and reports the outcome (``accepted()`` or ``refused(_:)``) before the next.
struct DeviceHistory {
    struct Client {
        var node: NodeID
        var scope: String?
        var lease: UInt64?
        /// The pushes this node id had applied: the lease each moved to, and its batch.
        var pushed: [(lease: UInt64, batch: ChangeBatch)] = []
    }

    var generator: MergeBatchGenerator
    private(set) var clients: [Client]
    private(set) var step = 0
    private(set) var restores = 0
    private let steps: Int
    private let seed: UInt64
    /// Pushes due before the generator's next: (client, batch, the lease it moves from).
    private var queue: [(client: Int, batch: ChangeBatch, previous: UInt64?)] = []
    private var current: (client: Int, batch: ChangeBatch, next: UInt64)?
    private var leases: UInt64 = 0
    private var nodes: Int64 = 0

    init(seed: UInt64) {
        self.seed = seed
        generator = MergeBatchGenerator(seed: 500_000 + seed)
        clients = []
        steps = 8 + generator.next(10)
        for scope in ["Fès", "Rabat", nil] { clients.append(Client(node: newNode(), scope: scope)) }
    }

    private mutating func newNode() -> NodeID {
        nodes += 1
        return NodeID(rawValue: 0x6000_0000 + Int64(seed) * 64 + nodes)!
    }

    /// The next push, or nil when the seed is done.
    mutating func nextPush() -> ClientPush? {
        if !queue.isEmpty {
            let (client, batch, previous) = queue.removeFirst()
            return push(client, batch, previous: previous)
        }
        guard step < steps else { return nil }
        step += 1
        let client = generator.next(clients.count)
        let batch = generator.deviceBatch()
        // A device with two pushes or more may be restored from the copy it had after one of them but its
        // last, with this batch written and not pushed yet.
        if clients[client].scope != nil, clients[client].pushed.count >= 2, generator.next(3) == 0 {
            restores += 1
            let backup = generator.next(clients[client].pushed.count - 1)
            return push(client, batch, previous: clients[client].pushed[backup].lease)
        }
        return push(client, batch, previous: clients[client].lease)
    }

    private mutating func push(_ client: Int, _ batch: ChangeBatch, previous: UInt64?) -> ClientPush {
        leases += 1
        current = (client, batch, leases)
        let node = clients[client].node
        return ClientPush(
            batch: ClientPushEquivalenceTests.stampedBy(node, batch), client: node, scope: clients[client].scope,
            lease: LeaseMove(Lease(previous: previous, next: leases), node: node, now: ClientPushEquivalenceTests.now),
            pruneEchoBelow: generator.next(4) == 0 ? Int64(generator.next(50)) : nil,
            now: ClientPushEquivalenceTests.now)
    }

    /// Both centrals applied the last push.
    mutating func accepted() {
        guard let (client, batch, next) = current else { return }
        clients[client].lease = next
        clients[client].pushed.append((next, batch))
        current = nil
    }

    /// Both centrals refused the last push with `code`: a duplicated node takes a new id and pushes its
    /// batch again.
    mutating func refused(_ code: SyncError.Code) {
        guard let (client, batch, _) = current, code == .duplicateNode else { return }
        clients[client] = Client(node: newNode(), scope: clients[client].scope)
        queue.append((client, batch, nil))
        current = nil
    }
}

extension MergeBatchGenerator {
    static let voidFields = ["city", "delivery", "reason", "volunteer", "voided_at"]

    /// Voids of the generator's deliveries (a few ids: sometimes two different voids under one id, or a void
    /// of a delivery that is not there).
    mutating func voidGroup() -> CollectionChanges {
        var group = CollectionChanges(name: "delivery_voids", fields: Self.voidFields)
        for _ in 0..<(1 + next(2)) {
            let id = "V\(next(6))"
            let recordStamp = stamp()
            let values: [Value] = [
                Self.value("city", record: id, stamp: recordStamp), .text("D\(recordStamp.hlc.storage % 8)"),
                Self.value("reason", record: id, stamp: recordStamp),
                Self.value("volunteer", record: id, stamp: recordStamp), .integer(Int64(recordStamp.hlc.millis)),
            ]
            let cells = values.enumerated().map { Cell(field: $0.offset, value: $0.element) }
            group.records.append(RecordChange(id: id, stamp: recordStamp, cells: cells))
        }
        return group
    }

    /// A device's batch: family edits and deletes, deliveries and voids, with unknown fields.
    mutating func deviceBatch() -> ChangeBatch {
        var groups: [CollectionChanges] = []
        for _ in 0..<(1 + next(3)) {
            switch next(5) {
            case 0: groups.append(deliveryGroup())
            case 1: groups.append(voidGroup())
            default: groups.append(familyGroup())
            }
        }
        return ChangeBatch(groups)
    }
}

import FieldDomain
import SyncCore

/// The nodes of a simulated run and its events, drawn from a seed.
///
/// Node 0 is central, nodes 1 and 2 the hubs of the two cities, the others devices (3 to 5), each in a
/// city and syncing with that city's hub.
package struct SimScenario {
    static let cities = ["Oran", "Tlemcen"]
    /// Wall-clock errors a node may have: ±5 s, ±4 min, +1 h, +1 day, +1 year, a day back.
    static let skews: [Int64] = [
        0, 5_000, -5_000, 240_000, -240_000, 3_600_000, 86_400_000, 31_536_000_000, -86_400_000,
    ]

    package let seed: UInt64
    /// The city of each device (node 3 onwards).
    package let deviceCities: [String]
    package var events: [SimEvent]
    /// Central imports recharge codes at the start, and voucher work is among the events.
    package var vouchers = false

    var nodeCount: Int { 3 + deviceCities.count }

    func city(_ node: Int) -> String? {
        node == 0 ? nil : node <= 2 ? Self.cities[node - 1] : deviceCities[node - 3]
    }

    init(seed: UInt64, deviceCities: [String], events: [SimEvent]) {
        self.seed = seed
        self.deviceCities = deviceCities
        self.events = events
    }

    /// `adversarial`: a dishonest device and hub send attacks, and the admin moves families between cities.
    /// `vouchers`: central imports recharge codes, and a third of the events are work on them
    /// (``SimVoucherEvent``).
    package init(seed: UInt64, adversarial: Bool = false, vouchers: Bool = false) {
        var random = SplitMix64(seed: seed)
        let devices = Int.random(in: 3...5, using: &random)
        // Two devices share the first city (one may be restored from the other's backup).
        var cities = [Self.cities[0], Self.cities[0], Self.cities[1]]
        while cities.count < devices { cities.append(Self.cities.randomElement(using: &random)!) }
        let nodes = 3 + devices
        var events: [SimEvent] = []
        var tag = 0
        func device() -> Int { Int.random(in: 3..<nodes, using: &random) }
        for _ in 0..<(vouchers ? Int.random(in: 40...70, using: &random) : Int.random(in: 20...45, using: &random)) {
            if vouchers, Int.random(in: 0..<100, using: &random) < 40 {
                events.append(.voucher(.random(nodes: nodes, using: &random)))
                continue
            }
            if adversarial, Int.random(in: 0..<100, using: &random) < 25 {
                events.append(
                    Int.random(in: 0..<5, using: &random) == 0
                        ? .move(pick: Int.random(in: 0..<1000, using: &random)) : .attack(.random(using: &random)))
                continue
            }
            let roll = Int.random(in: 0..<100, using: &random)
            switch roll {
            case 42..<68:
                let node = Int.random(in: 0..<4, using: &random) == 0 ? Int.random(in: 1...2, using: &random) : device()
                let clean = Bool.random(using: &random)
                events.append(
                    .sync(
                        node: node, faults: clean ? 0 : UInt64.random(in: 1...UInt64.max, using: &random),
                        rate: Int.random(in: 20...60, using: &random)))
            case 68..<72:
                events.append(
                    .link(
                        node: Int.random(in: 1..<nodes, using: &random), up: Int.random(in: 0..<5, using: &random) < 2))
            case 72..<77:
                let node = Int.random(in: 1..<nodes, using: &random)
                // Hubs keep their clocks within minutes; devices may be anywhere.
                let choices = node <= 2 ? Array(Self.skews.prefix(5)) : Self.skews
                events.append(.skew(node: node, millis: choices.randomElement(using: &random)!))
            case 77..<89:
                let long = Int.random(in: 0..<20, using: &random) == 0
                events.append(.tick(millis: long ? 3_600_000 : UInt64.random(in: 1...600_000, using: &random)))
            case 89..<95:
                events.append(.crash(node: Int.random(in: 0..<nodes, using: &random)))
            case 95..<97:
                let target = device()
                let peers = (3..<nodes).filter { $0 != target && cities[$0 - 3] == cities[target - 3] }
                if let source = peers.randomElement(using: &random) {
                    events.append(.restore(node: target, from: source))
                }
            default:
                tag += 1
                let pick = Int.random(in: 0..<1000, using: &random)
                let kind = Int.random(in: 0..<100, using: &random)
                let write: SimWrite
                switch kind {
                case 0..<20: write = .addFamily(tag: tag)
                case 20..<60:
                    write = .edit(
                        pick: pick, field: Int.random(in: 0..<SimWrite.fields.count, using: &random), tag: tag)
                case 60..<66: write = .delete(pick: pick)
                case 66..<90:
                    // With recharge codes, a recharge is a voucher event (a bare one would be refused).
                    let item = vouchers ? Int.random(in: 0..<2, using: &random) : Int.random(in: 0..<3, using: &random)
                    write = .deliver(pick: pick, item: item)
                default: write = .void(pick: pick)
                }
                events.append(.write(node: device(), write))
            }
        }
        self.init(seed: seed, deviceCities: Array(cities.prefix(devices)), events: events)
        self.vouchers = vouchers
    }
}

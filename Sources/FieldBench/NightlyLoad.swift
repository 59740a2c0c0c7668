import FieldDomain
import Foundation
import SyncCore

/// The nightly load of issue 19: devices and hubs of 8 cities syncing with central, `concurrency` syncs at
/// a time. What the devices push is made once (``DeviceWork``) and pushed to each central measured.
struct NightlyLoad: Sendable {
    static let cities = ["Casablanca", "Rabat", "Fès", "Marrakech", "Tanger", "Agadir", "Meknès", "Oujda"]
    static let campaign = "nuit-2026"

    var devices = 1000
    /// Deliveries each device logs a day and pushes at night.
    var deliveries = 20
    /// Families central holds per city before the nights (the admin registers them).
    var familiesPerCity = 1250
    var concurrency = 32
    /// Nights run; the last one is measured, those before warm up (tokens bound to nodes, leases held, a
    /// day of the city's deliveries to pull).
    var nights = 2

    /// The admin's replica (in memory): the campaign and the families, registered once; it pushes them to
    /// each central with the real client. The family ids per city, for the devices' deliveries.
    struct Programme {
        let admin: Replica
        let familyIDs: [String: [String]]
    }

    func programme(seed: UInt64) throws -> Programme {
        var rng = SplitMix64(seed: seed)
        var configuration = ReplicaConfiguration()
        configuration.durability = .off
        let admin = try Replica(inMemory: .fieldSync, configuration: configuration, logger: benchLogger)
        let now = Int64(SystemClock().nowMillis())
        try admin.write { tx in
            try tx.setCampaign(
                Campaign(
                    code: Self.campaign, name: "Nuit de mesure", phase: 1, startsAt: now - 30 * 86_400_000,
                    endsAt: now + 30 * 86_400_000,
                    items: Dictionary(uniqueKeysWithValues: Item.builtIn.map { ($0.code, Int?.none) })))
        }
        var ids: [String: [String]] = [:]
        for city in Self.cities {
            for chunk in stride(from: 0, to: familiesPerCity, by: 1000) {
                try admin.write { tx in
                    for index in chunk..<min(chunk + 1000, familiesPerCity) {
                        let id = try tx.addFamily(
                            NewFamily(
                                city: city, reference: "\(city.prefix(3).uppercased())-\(index)",
                                headName: "Famille \(index) \(UInt32.random(in: 0...UInt32.max, using: &rng))",
                                phone: "06\(String(format: "%08d", Int.random(in: 0..<100_000_000, using: &rng)))",
                                householdSize: Int.random(in: 1...9, using: &rng),
                                district: "Quartier \(Int.random(in: 1...30, using: &rng))"))
                        ids[city, default: []].append(id)
                    }
                }
            }
        }
        return Programme(admin: admin, familyIDs: ids)
    }

    /// A device's node and its pushes, one page a night.
    struct DeviceWork: Sendable {
        let node: NodeID
        let city: String
        let pages: [(batch: ChangeBatch, start: FeedCursor, end: FeedCursor)]
    }

    /// Each device's deliveries, logged through the typed API into an in-memory replica with the device's
    /// node id (20 a night, to families of its city, items of the built-in catalogue, the open campaign),
    /// read back as the pages its sync would push.
    func deviceWork(_ programme: Programme, seed: UInt64) throws -> [DeviceWork] {
        var rng = SplitMix64(seed: seed)
        let now = SystemClock().nowMillis()
        return try (0..<devices).map { index in
            let city = Self.cities[index % Self.cities.count]
            var configuration = ReplicaConfiguration()
            configuration.durability = .off
            configuration.nodeID = NodeID.random(using: &rng)
            let replica = try Replica(inMemory: .fieldSync, configuration: configuration, logger: benchLogger)
            var pages: [(batch: ChangeBatch, start: FeedCursor, end: FeedCursor)] = []
            var cursor = FeedCursor.start
            for night in 0..<nights {
                let day = now - UInt64(nights - night) * 86_400_000
                for delivery in 0..<deliveries {
                    try replica.write { tx in
                        _ = try tx.logDelivery(
                            NewDelivery(
                                city: city, family: programme.familyIDs[city]!.randomElement(using: &rng)!,
                                item: DeliveryItem.allCases.randomElement(using: &rng)!,
                                quantity: Int.random(in: 1...3, using: &rng), campaign: Self.campaign,
                                deliveredAt: day + UInt64(delivery) * 1_200_000, volunteer: "benevole-\(index)",
                                note: Int.random(in: 0..<10, using: &rng) == 0 ? "absent, repasser demain" : nil))
                    }
                }
                let page = try replica.changes(since: cursor, limit: 1000)
                pages.append((page.batch, cursor, page.cursor))
                cursor = page.cursor
            }
            return DeviceWork(node: replica.nodeID, city: city, pages: pages)
        }
    }

    /// What one night measured.
    struct Night {
        var seconds = 0.0
        var syncs = 0
        /// Each device's sync, start to end (ms), and each hub's.
        var deviceMillis: [Double] = []
        var hubMillis: [Double] = []
        var pushed = 0
        var refused = 0
        var devicePulled = 0
        var hubPulled = 0
        var roundTrips = 0
        var failures: [String] = []
        var syncsPerSecond: Double { Double(syncs) / seconds }
    }

    /// Runs a night: every device syncs once and every hub once (the hubs spread through the queue),
    /// `concurrency` at a time, each on its own thread; client k of the queue goes to `servers[(k + night) %
    /// servers.count]` (with two instances, a device's next sync lands on the other one).
    func night(devices: [NightlyClient], hubs: [NightlyClient], servers: [String], night: Int) -> Night {
        var order: [(client: NightlyClient, hub: Bool)] = devices.map { ($0, false) }
        for (index, hub) in hubs.enumerated().reversed() {
            order.insert((hub, true), at: (index * 2 + 1) * devices.count / (hubs.count * 2))
        }
        let queue = order
        let results = NightResults(count: queue.count)
        let group = DispatchGroup()
        let started = ContinuousClock.now
        for _ in 0..<min(concurrency, queue.count) {
            group.enter()
            let thread = Thread {
                while let index = results.next() {
                    let (client, _) = queue[index]
                    let start = ContinuousClock.now
                    let outcome = Result {
                        try client.sync(server: servers[(index + night) % servers.count], night: night)
                    }
                    results.set(index, outcome, millis: (ContinuousClock.now - start).inMillis)
                }
                group.leave()
            }
            thread.start()
        }
        group.wait()
        var figures = Night()
        figures.seconds = (ContinuousClock.now - started).inMillis / 1000
        for (index, entry) in queue.enumerated() {
            let (outcome, millis) = results.result(index)
            switch outcome {
            case .failure(let error)?:
                figures.failures.append("\(entry.hub ? "hub" : "device") of \(entry.client.city): \(error)")
            case .success(let summary)?:
                figures.syncs += 1
                figures.roundTrips += summary.roundTrips
                figures.refused += summary.refused
                if entry.hub {
                    figures.hubMillis.append(millis)
                    figures.hubPulled += summary.pulled
                } else {
                    figures.deviceMillis.append(millis)
                    figures.devicePulled += summary.pulled
                    figures.pushed += summary.pushed
                }
            case nil:
                figures.failures.append("a sync of the queue never ran")
            }
        }
        return figures
    }
}

/// The outcomes of a night's syncs, filled by the worker threads.
private final class NightResults: @unchecked Sendable {
    // @unchecked: every field is read and written under `lock`.
    private let lock = NSLock()
    private var taken = 0
    private var outcomes: [Result<SyncSummary, any Error>?]
    private var millis: [Double]

    init(count: Int) {
        outcomes = Array(repeating: nil, count: count)
        millis = Array(repeating: 0, count: count)
    }

    /// The next sync of the queue to run, nil once all are taken.
    func next() -> Int? {
        lock.withLock {
            guard taken < outcomes.count else { return nil }
            taken += 1
            return taken - 1
        }
    }

    func set(_ index: Int, _ outcome: Result<SyncSummary, any Error>, millis: Double) {
        lock.withLock {
            outcomes[index] = outcome
            self.millis[index] = millis
        }
    }

    func result(_ index: Int) -> (Result<SyncSummary, any Error>?, Double) {
        lock.withLock { (outcomes[index], millis[index]) }
    }
}

extension Duration {
    var inMillis: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }
}

/// The value at fraction `q` (0…1) of `values` sorted (nearest rank).
func percentile(_ values: [Double], _ q: Double) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, max(0, Int((q * Double(sorted.count)).rounded(.up)) - 1))]
}

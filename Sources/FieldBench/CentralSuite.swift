import ArgumentParser
import CentralPostgres
import FieldDomain
import FieldSyncTesting
import Foundation
import Logging
import PostgresNIO
import SyncCore

/// Central on PostgreSQL: R11, the merge into PostgreSQL against a plain upsert of the same final rows in
/// the same transactions; and the nightly load against a SQLite central and PostgreSQL behind 1 and 2
/// instances, side by side (issue 19).
struct CentralSuite: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "central",
        abstract: "R11 merge into central on PostgreSQL; the nightly load on SQLite and PostgreSQL (1, 2 instances).",
        discussion: """
            R11:
            A source replica (SQLite) registers --families families, makes --edits random family field edits and
            logs --deliveries deliveries; central on PostgreSQL has the families. Its feed since then, in pages of
            1,000 records, is merged into PostgreSQL (PostgresStore.merge: the rows read, the merge decided,
            stamps, history and the feed's sequences written, under the _meta lock), each page in one transaction;
            the baseline upserts the same pages' final rows into plain tables of the same columns, ids compared
            by bytes as in the merge's tables (INSERT … ON CONFLICT DO UPDATE, one statement per table, each
            column one array as the merge writes them), each page in one transaction, alternating with the merge
            page by page. R11 = merge time / baseline time; median of
            --runs. The floor: the rows each page's merge stored (stamps, sequences and all), upserted again as
            they are into tables of the merge's own shape and indexes, by the merge's own statement: what
            PostgreSQL alone takes for what central keeps; floor / baseline is the least R11 can be with these
            tables. A throwaway cluster is started (PostgreSQL's binaries must be installed).

            The nightly load (then the cluster is made durable: fsync, synchronous_commit and full_page_writes on,
            as SQLite's synchronous=FULL): 8 hubs and --devices devices of 8 cities, tokens issued per city.
            The admin pushes the open campaign and --city-families families a city; each hub pulls its city.
            Then --nights nights (the last measured): every device pushes --device-deliveries deliveries
            (logged through the typed API with its own node id: families of its city, built-in items, the
            campaign) and pulls its city's changes; every hub pulls its city's; --concurrency syncs at a time.
            Every push must be accepted whole. For a SQLite central (serve --db), PostgreSQL behind 1 instance
            and behind 2 (a client's sync on one, its next on the other): syncs/s, p50/p99 ms per device sync,
            each instance's peak RSS (VmHWM), CPU, the store's size.
            """)

    @Option(help: "Families registered first.") var families = 10_000
    @Option(help: "Random family field edits.") var edits = 100_000
    @Option(help: "Deliveries logged.") var deliveries = 100_000
    @Option(help: "Runs of R11 (0: R11 not measured); the median ratio is reported.") var runs = 3
    @Option(help: "Nightly load: devices.") var devices = 1000
    @Option(help: "Nightly load: deliveries each device pushes a night.") var deviceDeliveries = 20
    @Option(help: "Nightly load: families central holds per city.") var cityFamilies = 1250
    @Option(help: "Nightly load: syncs at a time.") var concurrency = 32
    @Option(help: "Nightly load: nights, the last measured.") var nights = 2
    @Option(help: "Nightly load: runs (each measures the three centrals; medians reported; 0: none).")
    var nightlyRuns = 1
    @Flag(help: "Nightly load: list PostgreSQL's most costly statements (pg_stat_statements) of each night.")
    var pgStatements = false
    @Flag(help: "Print one JSON object: R11_merge and the nightly load's figures.") var json = false

    func validate() throws {
        guard families > 0, edits >= 0, deliveries >= 0, runs >= 0 else {
            throw ValidationError("--families must be positive, --runs, --edits and --deliveries not negative.")
        }
        guard devices >= NightlyLoad.cities.count, (1...1000).contains(deviceDeliveries), cityFamilies >= 1,
            concurrency >= 1, nights >= 1, nightlyRuns >= 0
        else {
            throw ValidationError(
                "Need --devices ≥ 8, --device-deliveries 1…1000, --city-families, --concurrency and --nights ≥ 1.")
        }
    }

    func run() async throws {
        let cluster = try await PostgresCluster.start()
        do {
            var (ratios, floors): ([Double], [Double]) = ([], [])
            for index in 0..<runs {
                let (ours, floor, plain) = try await measure(cluster: cluster, seed: UInt64(index + 1))
                ratios.append(ours / plain)
                floors.append(floor / plain)
                if !json {
                    print(
                        "run \(index + 1)/\(runs): merge \(formatSeconds(ours)), floor \(formatSeconds(floor)), "
                            + "upsert \(formatSeconds(plain)), R11 \(format2(ours / plain)) (floor \(format2(floor / plain)))"
                    )
                }
            }
            let r11 = ratios.isEmpty ? nil : (merge: median(ratios), floor: median(floors))
            if !json, let r11 {
                print("R11     \(format2(r11.merge))    ≤ 1.5   merge into PostgreSQL / upsert of the same final rows")
                print(
                    "floor   \(format2(r11.floor))            the merge's stored rows upserted again into tables of its "
                        + "indexes / the same upsert")
            }
            let nightly = nightlyRuns > 0 ? try await runNightly(cluster: cluster) : []
            if json { try printJSON(r11: r11, nightly: nightly) }
        } catch {
            try? await cluster.stop()
            throw error
        }
        try await cluster.stop()
    }

    /// One run: the merge's time, the floor's (``FloorCentral``) and the baseline's, page by page in turn.
    private func measure(cluster: PostgresCluster, seed: UInt64) async throws -> (Double, Double, Double) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("field-bench-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = try CentralSource(
            families: families, edits: edits, deliveries: deliveries, seed: seed,
            path: directory.appendingPathComponent("source.sqlite").path)
        var configuration = try PostgresStoreConfiguration(
            url: cluster.url(database: try await cluster.createDatabase()))
        configuration.poolSize = 2
        let logger = Logger(label: "field-bench") { _ in SwiftLogNoOpLogHandler() }
        return try await CentralPostgres.PostgresDatabase.withDatabase(configuration, logger: logger) { database in
            let store = try await PostgresStore(database, schema: .fieldSync)
            try await PlainCentral.create(database)
            let floor = FloorCentral(schema: .fieldSync)
            try await floor.create(database)
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            _ = try await store.merge(source.initial, sender: nil, now: now)
            try await floor.upsert(database, try await floor.storedRows(of: source.initial, in: database))
            try await PlainCentral.upsert(database, families: source.initialFamilyRows, deliveries: [])
            var (ours, floorTime, plain) = (0.0, 0.0, 0.0)
            for page in source.pages {
                let started = ContinuousClock.now
                _ = try await store.merge(page, sender: nil, now: now)
                ours += seconds(ContinuousClock.now - started)
                let stored = try await floor.storedRows(of: page, in: database)
                let floorStarted = ContinuousClock.now
                try await floor.upsert(database, stored)
                floorTime += seconds(ContinuousClock.now - floorStarted)
                let rows = source.finalRows(of: page)
                let baseline = ContinuousClock.now
                try await PlainCentral.upsert(database, families: rows.families, deliveries: rows.deliveries)
                plain += seconds(ContinuousClock.now - baseline)
            }
            guard try await store.dump() == source.replica.dump() else {
                throw BenchError("central on PostgreSQL did not converge to the source: R11 is invalid")
            }
            return (ours, floorTime, plain)
        }
    }

    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

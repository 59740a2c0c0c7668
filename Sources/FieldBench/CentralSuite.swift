import ArgumentParser
import CentralPostgres
import FieldDomain
import FieldSyncTesting
import Foundation
import Logging
import PostgresNIO
import SyncCore

/// Central on PostgreSQL. So far R11: the merge into PostgreSQL against a plain upsert of the same final
/// rows, in the same transactions (issue 19; the nightly load comes with the store's sync route).
struct CentralSuite: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "central",
        abstract: "R11: merging into central on PostgreSQL, against a plain upsert of the same rows.",
        discussion: """
            A source replica (SQLite) registers --families families, makes --edits random family field edits and
            logs --deliveries deliveries; central on PostgreSQL has the families. Its feed since then, in pages of
            1,000 records, is merged into PostgreSQL (PostgresStore.merge: the rows read, the merge decided,
            stamps, history and the feed's sequences written, under the _meta lock), each page in one transaction;
            the baseline upserts the same pages' final rows into plain tables of the same columns (INSERT … ON
            CONFLICT DO UPDATE, one statement per table, the rows as JSON as the merge writes them), each page in
            one transaction, alternating with the merge page by page. R11 = merge time / baseline time; median of
            --runs. A throwaway cluster is started (PostgreSQL's binaries must be installed).
            """)

    @Option(help: "Families registered first.") var families = 10_000
    @Option(help: "Random family field edits.") var edits = 100_000
    @Option(help: "Deliveries logged.") var deliveries = 100_000
    @Option(help: "Runs; the median ratio is reported.") var runs = 3
    @Flag(help: "Print one JSON object with the key R11_merge.") var json = false

    func validate() throws {
        guard families > 0, edits >= 0, deliveries >= 0, runs > 0 else {
            throw ValidationError("--families and --runs must be positive, --edits and --deliveries not negative.")
        }
    }

    func run() async throws {
        let cluster = try await PostgresCluster.start()
        do {
            var ratios: [Double] = []
            for index in 0..<runs {
                let (ours, plain) = try await measure(cluster: cluster, seed: UInt64(index + 1))
                ratios.append(ours / plain)
                if !json {
                    print(
                        "run \(index + 1)/\(runs): merge \(formatSeconds(ours)), upsert \(formatSeconds(plain)), "
                            + "R11 \(format2(ours / plain))")
                }
            }
            let r11 = ratios.sorted()[ratios.count / 2]
            if json {
                print("{\"R11_merge\":\(format2(r11))}")
            } else {
                print("R11     \(format2(r11))    ≤ 1.5   merge into PostgreSQL / upsert of the same final rows")
            }
        } catch {
            try? await cluster.stop()
            throw error
        }
        try await cluster.stop()
    }

    private func measure(cluster: PostgresCluster, seed: UInt64) async throws -> (Double, Double) {
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
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            _ = try await store.merge(source.initial, sender: nil, now: now)
            try await PlainCentral.upsert(database, families: source.initialFamilyRows, deliveries: [])
            var (ours, plain) = (0.0, 0.0)
            for page in source.pages {
                let started = ContinuousClock.now
                _ = try await store.merge(page, sender: nil, now: now)
                ours += seconds(ContinuousClock.now - started)
                let rows = source.finalRows(of: page)
                let baseline = ContinuousClock.now
                try await PlainCentral.upsert(database, families: rows.families, deliveries: rows.deliveries)
                plain += seconds(ContinuousClock.now - baseline)
            }
            guard try await store.dump() == source.replica.dump() else {
                throw BenchError("central on PostgreSQL did not converge to the source: R11 is invalid")
            }
            return (ours, plain)
        }
    }

    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

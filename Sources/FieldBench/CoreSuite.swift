import ArgumentParser
import Foundation
import GRDB
import SyncCore

/// R1 (merge), R2 (local write) and the feed, against plain SQLite on the same settings.
struct CoreSuite: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "core",
        abstract: "R1 merge, R2 local write and feed reads of SyncCore against plain SQLite.",
        discussion: """
            Workload: a source replica registers --families families, makes --edits random family field edits
            and logs --deliveries deliveries (transactions of 1,000). Each figure is our time / the time of
            plain SQL doing the same rows, in the same kind of file (WAL, synchronous=FULL), bound through
            the same SQLite statement code, median of --runs runs.
              R1   apply the source's feed, page by page (1,000 records, one transaction each), to a replica
                   that holds the families as they were before the edits / INSERT … ON CONFLICT DO UPDATE of
                   the same final rows of each page, in one transaction, in key order, into a plain file that
                   holds the same families; ours and the baseline alternate page by page.
              R2   log the deliveries through the typed API / plain INSERTs of the same rows.
              feed read every change since 0 / SELECT * of the same rows.
            """
    )

    @Option(help: "Deliveries logged on the source replica.") var deliveries = 100_000
    @Option(help: "Family field edits on the source replica.") var edits = 100_000
    @Option(help: "Families registered before the edits.") var families = 10_000
    @Option(help: "Runs; the median ratio is reported.") var runs = 5
    @Option(
        help: "Directory for the benchmark's database files, kept for inspection (default: a temporary one, removed).")
    var directory: String?
    @Flag(help: "Print one JSON object with the keys R1, R2 and feed.") var json = false

    func validate() throws {
        guard deliveries > 0, edits >= 0, families > 0, runs > 0 else {
            throw ValidationError("--deliveries, --families and --runs must be positive, --edits not negative.")
        }
    }

    func run() throws {
        let root =
            try directory.map { URL(fileURLWithPath: $0) }
            ?? {
                let url = FileManager.default.temporaryDirectory.appendingPathComponent(
                    "field-bench-\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
                return url
            }()
        defer { if directory == nil { try? FileManager.default.removeItem(at: root) } }
        var results: [CoreRun] = []
        for index in 0..<runs {
            let runDirectory = root.appendingPathComponent("run-\(index)")
            try FileManager.default.createDirectory(at: runDirectory, withIntermediateDirectories: true)
            let workload = CoreWorkload(
                families: families, edits: edits, deliveries: deliveries, seed: UInt64(index + 1))
            results.append(try workload.measure(in: runDirectory))
            if directory == nil { try? FileManager.default.removeItem(at: runDirectory) }
            if !json {
                let last = results[results.count - 1]
                print(
                    "run \(index + 1)/\(runs): R1 \(format2(last.r1))  R2 \(format2(last.r2))  feed \(format2(last.feed))"
                )
            }
        }
        let r1 = median(results.map(\.r1))
        let r2 = median(results.map(\.r2))
        let feed = median(results.map(\.feed))
        if json {
            let object: [String: Double] = ["R1": r1, "R2": r2, "feed": feed]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        let sample = results[results.count / 2]
        print(
            """

            FieldSync core benchmark: \(families) families, \(edits) field edits, \(deliveries) deliveries; median of \(runs) runs
            figure  ours            plain SQLite    ratio   target
            R1      \(pad(formatSeconds(sample.mergeOurs)))\(pad(formatSeconds(sample.mergePlain)))\(pad(format2(r1), 8))≤ 1.5   merge: apply another replica's changes / upsert of the final rows
            R2      \(pad(formatSeconds(sample.writeOurs)))\(pad(formatSeconds(sample.writePlain)))\(pad(format2(r2), 8))≤ 2.0   local write: typed API / plain INSERT, 1,000 per transaction
            feed    \(pad(formatSeconds(sample.feedOurs)))\(pad(formatSeconds(sample.feedPlain)))\(pad(format2(feed), 8))-       read all changes since 0 / SELECT * of the same rows
            (times are of the median run; \(sample.changedFamilies) families changed, \(sample.feedRecords) feed records;
             R1 families alone: \(formatSeconds(sample.mergeFamiliesOurs)) / \(formatSeconds(sample.mergeFamiliesPlain)))
            """)
    }

    private func pad(_ text: String, _ width: Int = 16) -> String {
        text + String(repeating: " ", count: max(1, width - text.count))
    }
}

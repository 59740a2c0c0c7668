import ArgumentParser
import Foundation
import SyncCore

/// What a syncing client spends to prepare each push (the work of its read-ahead thread): feed read,
/// encode, compress, with the progress commit it makes between two pushes (which empties the readers'
/// page caches, as in a real sync). Per 1,000 records, median of --rounds.
struct PrepareProbe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prepare-probe", abstract: "The client's cost of preparing each push, per step.",
        shouldDisplay: false)

    @Option var deliveries = 50_000
    @Option var batch = 500
    @Option var rounds = 5
    @Flag(help: "No progress commit between pushes.") var noCommit = false

    func run() throws {
        let directory = try SyncWorkload.scratchDirectory("field-bench-prepare")
        defer { try? FileManager.default.removeItem(at: directory) }
        let device = try SyncWorkload.replica(directory.appendingPathComponent("device.db").path)
        try SyncWorkload.logDeliveries(device, count: deliveries, seed: 2)
        try device.checkpoint()
        var feed: [Double] = []
        var encode: [Double] = []
        var compress: [Double] = []
        var commit: [Double] = []
        for round in 0..<rounds {
            var cursor = FeedCursor.start
            var times = (0.0, 0.0, 0.0, 0.0)
            var step = 0
            while true {
                var page: FeedPage?
                times.0 += try time { page = try device.changes(since: cursor, limit: batch) }
                guard let page else { break }
                var head: [UInt8] = []
                times.1 += time {
                    head = SyncRequest(
                        node: device.nodeID, clockMillis: 0, push: .init(batch: page.batch, to: page.cursor)
                    ).encodedHead()
                }
                times.2 += time {
                    let stream = ContentCoding.zstd.stream()
                    stream.write(head)
                    _ = stream.finish(Array("}".utf8))
                }
                step += 1
                if !noCommit {
                    times.3 += try time {
                        try device.apply(
                            ChangeBatch(), from: "probe-\(round)",
                            progress: PeerProgress(pushed: page.cursor, pulled: FeedCursor(Int64(step))))
                    }
                }
                cursor = page.cursor
                if !page.hasMore { break }
            }
            let scale = 1_000_000 / Double(deliveries)
            feed.append(times.0 * scale)
            encode.append(times.1 * scale)
            compress.append(times.2 * scale)
            commit.append(times.3 * scale)
        }
        print(
            "ms per 1,000 records at batch \(batch) (median of \(rounds)): feed \(format2(median(feed))), "
                + "encode \(format2(median(encode))), zstd \(format2(median(compress))), "
                + "total \(format2(median(feed) + median(encode) + median(compress))); "
                + "progress commit \(format2(median(commit)))")
    }
}

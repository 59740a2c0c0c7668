import ArgumentParser
import Foundation
import SyncCore

/// Where the time of one sync round trip goes: feed read, encode, gzip, gunzip, decode, apply.
struct CodecSuite: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "codec", abstract: "Costs of the steps of a round trip, per page of --batch deliveries.")

    @Option var deliveries = 50_000
    @Option var batch = 1000

    func run() throws {
        let directory = try SyncWorkload.scratchDirectory("field-bench-codec")
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = try SyncWorkload.replica(directory.appendingPathComponent("source.db").path)
        try SyncWorkload.logDeliveries(source, count: deliveries, seed: 1)
        var pages: [ChangeBatch] = []
        let feed = try time { pages = try SyncWorkload.pages(source, limit: batch) }
        var encoded: [[UInt8]] = []
        let encode = time {
            encoded = pages.map {
                SyncResponse(node: source.nodeID, clockMillis: 1, pull: .init(batch: $0, cursor: .start, more: true))
                    .encoded()
            }
        }
        var compressed: [[UInt8]] = []
        for level in [1, 3, 6] {
            let seconds = time { compressed = encoded.map { Gzip.compress($0, level: Int32(level)) } }
            let bytes = compressed.reduce(0) { $0 + $1.count }
            print("gzip -\(level): \(formatSeconds(seconds)), \(bytes / deliveries) B per delivery")
        }
        let gunzip = try time { for page in compressed { _ = try Gzip.decompress(page, limit: 1 << 26) } }
        var zstd: [[UInt8]] = []
        for level in [1, 3] {
            let seconds = time { zstd = encoded.map { Zstd.compress($0, level: Int32(level)) } }
            let bytes = zstd.reduce(0) { $0 + $1.count }
            print("zstd -\(level): \(formatSeconds(seconds)), \(bytes / deliveries) B per delivery")
        }
        let unzstd = try time { for page in zstd { _ = try Zstd.decompress(page, limit: 1 << 26) } }
        print("gunzip (level 6) \(formatSeconds(gunzip)), zstd decompress (level 3) \(formatSeconds(unzstd))")
        let decode = try time { for page in encoded { _ = try SyncResponse(decoding: page) } }
        let target = try SyncWorkload.replica(directory.appendingPathComponent("target.db").path)
        let apply = try time { for page in pages { try target.apply(page) } }
        let empty = try time {
            for index in 0..<pages.count {
                try target.apply(
                    ChangeBatch(), from: "upstream",
                    progress: PeerProgress(pushed: FeedCursor(Int64(index)), pulled: FeedCursor(Int64(index))))
            }
        }
        print("\(pages.count) empty applies with progress: \(formatSeconds(empty))")
        print(
            "feed \(formatSeconds(feed)), encode \(formatSeconds(encode)), gunzip \(formatSeconds(gunzip)), decode \(formatSeconds(decode)), apply \(formatSeconds(apply)); raw \(encoded.reduce(0) { $0 + $1.count } / deliveries) B per delivery"
        )
    }
}

struct DeltaProbe: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delta-probe", shouldDisplay: false)
    func run() throws {
        let directory = try SyncWorkload.scratchDirectory("probe")
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = try SyncWorkload.replica(directory.appendingPathComponent("s.db").path)
        let ids = try SyncWorkload.registerFamilies(source, count: 10_000, seed: 3)
        let head = try source.headCursor()
        try SyncWorkload.editPhones(source, ids: ids, seed: 4)
        let page = try source.changes(since: head, limit: 1000)
        let bytes = SyncRequest(node: source.nodeID, clockMillis: 1, push: .init(batch: page.batch, to: page.cursor))
            .encoded()
        print(String(decoding: bytes.prefix(600), as: UTF8.self))
        print("raw \(bytes.count) gz \(Gzip.compress(bytes).count) records \(page.batch.recordCount)")
    }
}

import Foundation
import SyncCore
import Testing

/// A push merged while it decodes (`StreamedApply`): the chunks are exactly the batch, a stream that
/// commits leaves the replica an apply would, and one that fails or is aborted leaves nothing.
@Suite("Streamed push")
struct StreamedApplyTests {
    static let now = Int64(BatchGenerator.t0 + 86_400_000)
    static let peer = "client:stream"

    /// Random family edits (cell stamps, unknown fields) and 300 deliveries: more than two chunks.
    func bigBatch(seed: UInt64) -> ChangeBatch {
        var generator = BatchGenerator(seed: seed)
        var groups = concatenate((0..<30).map { _ in generator.batch() }).collections
        groups.append(
            CollectionChanges(
                name: "deliveries", fields: deliveryFields + ["gps"], records: (1...300).map(BatchGenerator.delivery)))
        groups.shuffle(using: &generator.rng)
        return ChangeBatch(groups)
    }

    func decodeInChunks(_ bytes: [UInt8]) throws -> (ChangeBatch, [CollectionChanges]) {
        var reader = JSONReader(bytes)
        var chunks: [CollectionChanges] = []
        let batch = try WireBatch.decode(&reader, chunks: { chunks.append($0) })
        try reader.end()
        return (batch, chunks)
    }

    @Test func chunksHoldExactlyTheBatchInOrder() throws {
        for index in 0..<20 {
            let seed = baseSeed &+ 70_000 &+ UInt64(index)
            let bytes = WireBatch.encode(bigBatch(seed: seed))
            let (batch, chunks) = try decodeInChunks(bytes)
            #expect(batch == (try WireBatch.decode(bytes)), "seed \(seed)")
            let fromChunks = chunks.flatMap { chunk in chunk.records.map { (chunk.name, chunk.fields, $0) } }
            let fromBatch = batch.collections.flatMap { group in group.records.map { (group.name, group.fields, $0) } }
            #expect(
                fromChunks.elementsEqual(fromBatch) { $0.0 == $1.0 && $0.1 == $1.1 && $0.2 == $1.2 }, "seed \(seed)")
            #expect(chunks.allSatisfy { $0.records.count <= WireBatch.chunkRecords })
            #expect(chunks.contains { $0.records.count == WireBatch.chunkRecords }, "seed \(seed)")
            // The merge waits only for the first chunk of a group: a small one.
            #expect((chunks.first?.records.count ?? 0) <= WireBatch.firstChunkRecords, "seed \(seed)")
        }
    }

    @Test func aBodyNamingItsNodesLastDecodesWholeAndHandsNothingOn() throws {
        let body =
            #"{"groups":[{"collection":"deliveries","fields":["city"],"records":[["D1",5,1,"Oran"]]}],"#
            + #""nodes":["0000000000000001","0000000000000002"]}"#
        let (batch, chunks) = try decodeInChunks(Array(body.utf8))
        #expect(chunks.isEmpty)
        #expect(batch.collections.first?.records.first?.stamp.node == node(2))
        let twice = #"{"nodes":["0000000000000001"],"groups":[],"nodes":["0000000000000002"]}"#
        #expect(throws: SyncError.self) { try WireBatch.decode(Array(twice.utf8)) }
    }

    @Test func aCommittedStreamLeavesTheReplicaAnApplyWould() throws {
        for index in 0..<10 {
            let seed = baseSeed &+ 71_000 &+ UInt64(index)
            let (batch, chunks) = try decodeInChunks(WireBatch.encode(bigBatch(seed: seed)))
            let streamed = try makeMergeReplica()
            let applied = try makeMergeReplica()
            let stream = StreamedApply(
                replica: streamed, peer: Self.peer, sender: node(1), scope: nil, serverClock: Self.now)
            for chunk in chunks { stream.offer(chunk) }
            let report = try #require(stream.finish(lease: nil, pruneEchoBelow: nil, records: batch.recordCount))
            // (A stream is a server's apply of a client's push: the same checks.)
            let expected = try applied.apply(
                batch, from: Self.peer, sender: node(1), fromClient: true, serverClock: Self.now)
            #expect(report.refused == expected.refused, "seed \(seed)")
            #expect(report.records == expected.records, "seed \(seed)")
            #expect(report.conflicts == expected.conflicts, "seed \(seed)")
            #expect(try streamed.dump() == applied.dump(), "seed \(seed)")
            #expect(try streamed.headCursor() == applied.headCursor(), "seed \(seed)")
            #expect(try streamed.echoRanges(from: Self.peer) == applied.echoRanges(from: Self.peer), "seed \(seed)")
        }
    }

    @Test func aFailedOrAbortedStreamLeavesNothingAndFreesTheWriteLock() throws {
        let (batch, chunks) = try decodeInChunks(WireBatch.encode(bigBatch(seed: baseSeed &+ 72_000)))
        let replica = try makeMergeReplica()
        let dump = try replica.dump()
        let head = try replica.headCursor()
        func stream() -> StreamedApply {
            StreamedApply(replica: replica, peer: Self.peer, sender: node(1), scope: nil, serverClock: Self.now)
        }
        // Aborted halfway.
        let aborted = stream()
        for chunk in chunks.prefix(chunks.count / 2) { aborted.offer(chunk) }
        aborted.abort()
        #expect(aborted.finish(lease: nil, pruneEchoBelow: nil, records: batch.recordCount) == nil)
        // A chunk the schema refuses, after good ones.
        let refused = stream()
        for chunk in chunks { refused.offer(chunk) }
        refused.offer(CollectionChanges(name: "famillies", fields: ["city"], records: [chunks[0].records[0]]))
        #expect(refused.finish(lease: nil, pruneEchoBelow: nil, records: batch.recordCount + 1) == nil)
        // Fewer records than the decoded push carries.
        let short = stream()
        for chunk in chunks.dropLast() { short.offer(chunk) }
        #expect(short.finish(lease: nil, pruneEchoBelow: nil, records: batch.recordCount) == nil)
        // Stamps a day past the server's clock.
        let ahead = stream()
        var late = chunks[0]
        for index in late.records.indices {
            late.records[index].stamp = Stamp(
                hlc: HLCTimestamp(millis: UInt64(Self.now) + 86_400_000, counter: 0), node: node(1))
            for cell in late.records[index].cells.indices { late.records[index].cells[cell].stamp = nil }
        }
        ahead.offer(late)
        #expect(ahead.finish(lease: nil, pruneEchoBelow: nil, records: late.records.count) == nil)
        #expect(try replica.dump() == dump)
        #expect(try replica.headCursor() == head)
        // The write lock is free: the batch applies the usual way.
        #expect(
            try replica.apply(batch, from: Self.peer, sender: node(1), serverClock: Self.now).records
                == batch.recordCount)
    }
}

import Foundation
import SyncCore
import Testing

/// A push merged while it decodes (`SyncStore.beginPush`, `PushStream`): the chunks are exactly the batch, a
/// stream that commits leaves the replica an apply would, and one that fails or is aborted leaves nothing.
@Suite("Streamed push")
struct StreamedApplyTests {
    static let now = Int64(BatchGenerator.t0 + 86_400_000)
    static let client = node(1)

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

    /// A store over a replica in a file (an in-memory one applies pushes whole), removed after `body`.
    func withFileStore<T>(_ body: (ReplicaStore) async throws -> T) async throws -> T {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let replica = try makeFileReplica(
            at: directory.appendingPathComponent("central.sqlite").path,
            clock: ManualClock(BatchGenerator.t0 + 86_400_000), node: node(99))
        return try await body(try ReplicaStore(replica))
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

    @Test func anInMemoryReplicaAppliesPushesWhole() throws {
        #expect(try ReplicaStore(makeMergeReplica()).beginPush(client: Self.client, scope: nil, now: Self.now) == nil)
    }

    @Test func aCommittedStreamLeavesTheReplicaAnApplyWould() async throws {
        for index in 0..<10 {
            let seed = baseSeed &+ 71_000 &+ UInt64(index)
            let (batch, chunks) = try decodeInChunks(WireBatch.encode(bigBatch(seed: seed)))
            try await withFileStore { streamed in
                try await withFileStore { applied in
                    let stream = try #require(streamed.beginPush(client: Self.client, scope: nil, now: Self.now))
                    for chunk in chunks { stream.offer(chunk) }
                    let report = try #require(
                        await stream.finish(lease: nil, pruneEchoBelow: nil, records: batch.recordCount))
                    // (A stream is a server's apply of a client's push: the same checks.)
                    let expected = try await applied.apply(
                        ClientPush(
                            batch: batch, client: Self.client, scope: nil, lease: nil, pruneEchoBelow: nil,
                            now: Self.now))
                    #expect(report.refused == expected.refused, "seed \(seed)")
                    #expect(report.records == expected.records, "seed \(seed)")
                    #expect(report.conflicts == expected.conflicts, "seed \(seed)")
                    let peer = ClientPush.peerKey(client: Self.client)
                    #expect(try streamed.replica.dump() == applied.replica.dump(), "seed \(seed)")
                    #expect(try streamed.replica.headCursor() == applied.replica.headCursor(), "seed \(seed)")
                    #expect(
                        try streamed.replica.echoRanges(from: peer) == applied.replica.echoRanges(from: peer),
                        "seed \(seed)")
                }
            }
        }
    }

    @Test func aFailedOrAbortedStreamLeavesNothingAndFreesTheWriteLock() async throws {
        let (batch, chunks) = try decodeInChunks(WireBatch.encode(bigBatch(seed: baseSeed &+ 72_000)))
        try await withFileStore { store in
            let replica = store.replica
            let dump = try replica.dump()
            let head = try replica.headCursor()
            func stream() throws -> any PushStream {
                try #require(store.beginPush(client: Self.client, scope: nil, now: Self.now))
            }
            // Aborted halfway.
            let aborted = try stream()
            for chunk in chunks.prefix(chunks.count / 2) { aborted.offer(chunk) }
            aborted.abort()
            #expect(await aborted.finish(lease: nil, pruneEchoBelow: nil, records: batch.recordCount) == nil)
            // A chunk the schema refuses, after good ones.
            let refused = try stream()
            for chunk in chunks { refused.offer(chunk) }
            refused.offer(CollectionChanges(name: "famillies", fields: ["city"], records: [chunks[0].records[0]]))
            #expect(await refused.finish(lease: nil, pruneEchoBelow: nil, records: batch.recordCount + 1) == nil)
            // Fewer records than the decoded push carries.
            let short = try stream()
            for chunk in chunks.dropLast() { short.offer(chunk) }
            #expect(await short.finish(lease: nil, pruneEchoBelow: nil, records: batch.recordCount) == nil)
            // Stamps a day past the server's clock.
            let ahead = try stream()
            var late = chunks[0]
            for index in late.records.indices {
                late.records[index].stamp = Stamp(
                    hlc: HLCTimestamp(millis: UInt64(Self.now) + 86_400_000, counter: 0), node: Self.client)
                for cell in late.records[index].cells.indices { late.records[index].cells[cell].stamp = nil }
            }
            ahead.offer(late)
            #expect(await ahead.finish(lease: nil, pruneEchoBelow: nil, records: late.records.count) == nil)
            #expect(try replica.dump() == dump)
            #expect(try replica.headCursor() == head)
            // The write lock is free: the batch applies the usual way.
            let report = try await store.apply(
                ClientPush(
                    batch: batch, client: Self.client, scope: nil, lease: nil, pruneEchoBelow: nil, now: Self.now))
            #expect(report.records == batch.recordCount)
        }
    }
}

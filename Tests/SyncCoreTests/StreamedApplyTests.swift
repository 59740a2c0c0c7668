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

    /// The batch without the records a whole apply refuses (taken out until none is: a stream with a refusal
    /// applies nothing, and the push is applied whole).
    func acceptedPart(of batch: ChangeBatch) async throws -> ChangeBatch {
        var batch = batch
        for _ in 0..<5 {
            let refused = try await withFileStore { store in
                try await store.apply(
                    ClientPush(
                        batch: batch, client: Self.client, scope: nil, lease: nil, pruneEchoBelow: nil, now: Self.now)
                ).refused
            }
            if refused.isEmpty { return batch }
            let ids = Set(refused.map { RecordRef(collection: $0.collection, id: $0.id) })
            batch = ChangeBatch(
                batch.collections.map { group in
                    var group = group
                    group.records.removeAll { ids.contains(RecordRef(collection: group.name, id: $0.id)) }
                    return group
                }.filter { !$0.records.isEmpty })
        }
        Issue.record("refusals left after five passes")
        return batch
    }

    @Test func aCommittedStreamLeavesTheReplicaAnApplyWould() async throws {
        for index in 0..<10 {
            let seed = baseSeed &+ 71_000 &+ UInt64(index)
            let full = bigBatch(seed: seed)
            // With refusals: nothing applied, the caller applies the push whole.
            let (_, fullChunks) = try decodeInChunks(WireBatch.encode(full))
            try await withFileStore { store in
                let stream = try #require(store.beginPush(client: Self.client, scope: nil, now: Self.now))
                for chunk in fullChunks { stream.offer(chunk) }
                let refused = try await acceptedPart(of: full).recordCount < full.recordCount
                let report = await stream.finish(lease: nil, pruneEchoBelow: nil, records: full.recordCount)
                #expect((report == nil) == refused, "seed \(seed)")
            }
            let (batch, chunks) = try decodeInChunks(WireBatch.encode(try await acceptedPart(of: full)))
            #expect(chunks.count >= 3, "seed \(seed): too few records accepted to stream in runs")
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

    /// A hub's own stamp past the drift bound is refused even when an earlier run carried a relayed stamp
    /// that moved the clock (it was once committed); a stream with a refused record applies nothing (the
    /// push is applied whole, with the whole apply's order of refusals).
    @Test func ownStampsAreHeldToTheClockAsItWasAndRefusalsFallBack() async throws {
        try await withFileStore { store in
            let hub = node(7)
            let device = node(8)
            let ahead = UInt64(Self.now) + 450_000  // 7 min 30 s: within the relayed bound, past the own one
            func family(_ id: String, by stamper: NodeID) -> CollectionChanges {
                CollectionChanges(
                    name: "families", fields: ["city", "reference", "head_name"],
                    records: [
                        RecordChange(
                            id: id, stamp: Stamp(hlc: HLCTimestamp(millis: ahead, counter: 0), node: stamper),
                            cells: [
                                Cell(field: 0, value: "Tunis"), Cell(field: 1, value: "R"), Cell(field: 2, value: "H"),
                            ])
                    ])
            }
            let stream = try #require(store.beginPush(client: hub, scope: nil, now: Self.now))
            stream.offer(family("F-relayed", by: device))
            stream.offer(family("F-own", by: hub))
            #expect(await stream.finish(lease: nil, pruneEchoBelow: nil, records: 2) == nil)
            let whole = ChangeBatch([family("F-relayed", by: device), family("F-own", by: hub)])
            await #expect(throws: SyncError.self) {
                try await store.apply(
                    ClientPush(batch: whole, client: hub, scope: nil, lease: nil, pruneEchoBelow: nil, now: Self.now))
            }
            #expect(try store.replica.headCursor() == .start)

            // A record of another city: refused on its own by a whole apply, the stream rolls back.
            let scoped = try #require(store.beginPush(client: device, scope: "Sfax", now: Self.now))
            var foreign = family("F-tunis", by: device)
            foreign.records[0].stamp.hlc = HLCTimestamp(millis: UInt64(Self.now), counter: 0)
            scoped.offer(foreign)
            #expect(await scoped.finish(lease: nil, pruneEchoBelow: nil, records: 1) == nil)
            #expect(try store.replica.headCursor() == .start)
        }
    }
}

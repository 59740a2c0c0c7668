// The seed corpus of the decoder fuzzer: real requests and responses built with the real encoders
// (pushes of every collection, cell stamps, tombstones, pulls, heartbeats, relayed statuses and conflicts),
// gzip-compressed copies, bare batches and problem documents. Written by LLVMFuzzerInitialize into the
// folder named by FIELDSYNC_FUZZ_SEEDS (scripts/fuzz/run.sh sets it), before libFuzzer reads its corpus.

#if canImport(Glibc)
    import Glibc
#endif

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>>
)
    -> CInt
{
    guard let folder = getenv("FIELDSYNC_FUZZ_SEEDS").map({ String(cString: $0) }) else { return 0 }
    for (index, seed) in seedCorpus().enumerated() {
        let path = "\(folder)/seed-\(index)"
        guard let file = fopen(path, "wb") else { continue }
        _ = seed.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        fclose(file)
    }
    return 0
}

func seedCorpus() -> [[UInt8]] {
    let device = NodeID(rawValue: 0x5f3a_9c0e_12ab_44d1)!
    let other = NodeID(rawValue: 0x0c41_d2e9_a7b3_5f08)!
    func stamp(_ millis: UInt64, _ counter: UInt16 = 0, _ node: NodeID = device) -> Stamp {
        Stamp(hlc: HLCTimestamp(millis: millis, counter: counter), node: node)
    }
    let now: UInt64 = 1_764_019_802_000
    let families = CollectionChanges(
        name: "families", fields: ["city", "reference", "head_name", "phone", "household_size", "notes"],
        records: [
            RecordChange(
                id: "fam-0007", stamp: stamp(now),
                cells: [
                    Cell(field: 0, value: .text("Tunis")), Cell(field: 1, value: .text("TUN-0007")),
                    Cell(field: 2, value: .text("فاطمة بن علي")), Cell(field: 3, value: .text("+216 20 000 000")),
                    Cell(field: 4, value: .integer(5)), Cell(field: 5, value: .null, stamp: stamp(now - 5, 3, other)),
                ]),
            RecordChange(
                id: "fam-0008", stamp: stamp(now + 1, 1),
                cells: [Cell(field: 0, value: .text("Sfax")), Cell(field: 4, value: .real(2.5))]),
        ])
    let tombstone = CollectionChanges(
        name: "families", fields: ["_deleted"],
        records: [RecordChange(id: "fam-0009", stamp: stamp(now + 2), cells: [Cell(field: 0, value: .integer(1))])])
    let deliveries = CollectionChanges(
        name: "deliveries", fields: ["city", "family", "item", "quantity", "delivered_at", "volunteer", "x_new"],
        records: (0..<4).map { index in
            RecordChange(
                id: "01JDELIV000\(index)", stamp: stamp(now + UInt64(index) * 1000, UInt16(index)),
                cells: [
                    Cell(field: 0, value: .text("Tunis")), Cell(field: 1, value: .text("fam-0007")),
                    Cell(field: 2, value: .text("food_pack")), Cell(field: 3, value: .integer(Int64(index) - 1)),
                    Cell(field: 4, value: .integer(Int64(now))), Cell(field: 5, value: .text("amina \"A\"\n\\")),
                    Cell(field: 6, value: .real(-1e300)),
                ])
        })
    let batch = ChangeBatch([families, tombstone, deliveries])
    let heartbeat = Heartbeat(app: "fieldsync/0.3.0", backlog: 2, oldestPendingMillis: 4200, lastError: "timeout")
    var full = SyncRequest(
        node: device, clockMillis: Int64(now), push: .init(batch: batch, to: FeedCursor(42)),
        pull: .init(cursor: FeedCursor(base: 100, position: 130), limit: 1000, budget: 1 << 20), heartbeat: heartbeat)
    full.relayed = [
        DeviceStatus(
            node: other, name: "youssef", role: "device", city: "Tunis", heartbeat: heartbeat,
            clockOffsetMillis: -31_536_000_000, lastSeenMillis: Int64(now))
    ]
    full.conflicts = [
        HistoryEntry(
            collection: "families", recordID: "fam-0007", field: "phone", value: .text("55 700 800"),
            stamp: stamp(now - 10), winner: stamp(now, 0, other))
    ]
    let requests = [
        full,
        SyncRequest(node: device, clockMillis: Int64(now), pull: .init(cursor: .start)),
        SyncRequest(node: device, clockMillis: Int64(now)),
        SyncRequest(node: device, clockMillis: Int64(now), push: .init(batch: ChangeBatch(), to: FeedCursor(1))),
    ]
    let response = SyncResponse(
        node: other, clockMillis: Int64(now), pushed: .init(to: FeedCursor(42), records: 7, conflicts: 1),
        pull: .init(batch: batch, cursor: FeedCursor(base: 100, position: 130), more: true))
    let problem = Problem(
        code: "clock-drift", title: "Clock out of bounds", status: 409, detail: "ahead", offsetMillis: -86_400_000,
        serverClockMillis: Int64(now))
    var seeds = requests.map { $0.encoded() }
    seeds += [response.encoded(), WireBatch.encode(batch), problem.encoded()]
    seeds += seeds.map { Gzip.compress($0) } + seeds.map { Zstd.compress($0) }
    seeds += [
        Array("{\"v\":1,\"node\":\"5f3a9c0e12ab44d1\",\"clock\":1,\"x\":[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]}".utf8),
        Array(
            "{\"v\":1,\"node\":\"5f3a9c0e12ab44d1\",\"clock\":-9223372036854775808,\"pull\":{\"cursor\":\"1:2\"}}".utf8),
        Array("[\"\\u00e9\\ud83d\\ude00\",1.5e-7,-0,true,false,null,{}]".utf8),
    ]
    return seeds
}

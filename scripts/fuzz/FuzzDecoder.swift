// A libFuzzer target for the wire decoders: SyncRequest, SyncResponse, WireBatch, Problem, the JSON reader
// under them, Gzip and Zstd. Compiled together with the SyncCore protocol sources by scripts/fuzz/run.sh, so that
// the fuzzer sees (and instruments) the decoder itself.
//
// Properties checked on every input, besides "no crash, no leak, no memory error":
// - a decoded request, response or batch encodes to bytes that decode again to the same value (groups
//   without records, which the encoder leaves out, aside);
// - Gzip.decompress and Zstd.decompress never return more than their limit.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    check(bytes)
    if let inflated = try? Gzip.decompress(bytes, limit: 1 << 20) {
        guard inflated.count <= 1 << 20 else { fatalError("Gzip.decompress went over its limit") }
        check(inflated)
    }
    if let decoded = try? Zstd.decompress(bytes, limit: 1 << 20) {
        guard decoded.count <= 1 << 20 else { fatalError("Zstd.decompress went over its limit") }
        check(decoded)
    }
    return 0
}

private func check(_ bytes: [UInt8]) {
    if let request = try? SyncRequest(decoding: bytes) {
        let again: SyncRequest
        do {
            again = try SyncRequest(decoding: request.encoded())
        } catch {
            fatalError("a decoded request does not decode once encoded again: \(error.message)")
        }
        guard again.node == request.node, again.clockMillis == request.clockMillis,
            again.push.map { nonEmpty($0.batch) } == request.push.map { nonEmpty($0.batch) },
            again.push?.to == request.push?.to,
            again.pull?.cursor == request.pull?.cursor, again.heartbeat == request.heartbeat,
            again.relayed == request.relayed, again.conflicts == request.conflicts
        else { fatalError("a decoded request changes when encoded and decoded again") }
    }
    if let batch = try? WireBatch.decode(bytes) {
        guard (try? WireBatch.decode(WireBatch.encode(batch))).map(nonEmpty) == nonEmpty(batch) else {
            fatalError("a decoded batch changes when encoded and decoded again")
        }
    }
    if let response = try? SyncResponse(decoding: bytes) {
        guard let again = try? SyncResponse(decoding: response.encoded()), again.node == response.node,
            again.clockMillis == response.clockMillis, again.pushed == response.pushed,
            again.pull.map { nonEmpty($0.batch) } == response.pull.map { nonEmpty($0.batch) },
            again.pull?.cursor == response.pull?.cursor,
            again.pull?.more == response.pull?.more
        else { fatalError("a decoded response changes when encoded and decoded again") }
    }
    _ = Problem(decoding: bytes)
}

/// The batch without its groups that carry no records (the encoder leaves them out).
private func nonEmpty(_ batch: ChangeBatch) -> ChangeBatch {
    ChangeBatch(batch.collections.filter { !$0.records.isEmpty })
}

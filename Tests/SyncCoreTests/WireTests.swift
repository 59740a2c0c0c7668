import Foundation
import SyncCore
import Testing

/// The v1 wire codec: what goes in comes out, and bad input is refused with a clear message.
@Suite("Wire codec")
struct WireTests {
    @Test func randomBatchesSurviveTheWire() throws {
        for index in 0..<300 {
            let seed = baseSeed &+ 50_000 &+ UInt64(index)
            var generator = BatchGenerator(seed: seed)
            let batch = generator.batch()
            let decoded = try WireBatch.decode(WireBatch.encode(batch))
            // Groups may be split by shape and cell stamps equal to the record's dropped: compare effects.
            let direct = try makeMergeReplica()
            let viaWire = try makeMergeReplica()
            try direct.apply(batch)
            try viaWire.apply(decoded)
            #expect(try direct.dump() == viaWire.dump(), "seed \(seed)")
            #expect(decoded.recordCount == batch.recordCount, "seed \(seed)")
        }
    }

    @Test func valuesKeepTheirKind() throws {
        let stamp = stamp(1_780_000_000_000, node: 7)
        let values: [Value] = [
            .null, .integer(0), .integer(-42), .integer(.max), .integer(.min), .real(1.0), .real(-2.5e-10),
            .text(""), .text("Ağa \"quoted\" \\ back\nline\u{1}"), .text("عائلة بن علي"), .text("Émilie 😀"),
        ]
        let batch = ChangeBatch([
            CollectionChanges(
                name: "x", fields: values.indices.map { "f\($0)" },
                records: [
                    RecordChange(id: "r", stamp: stamp, cells: values.enumerated().map { Cell(field: $0, value: $1) })
                ])
        ])
        let decoded = try WireBatch.decode(WireBatch.encode(batch))
        #expect(decoded.collections.first?.records.first?.cells.map(\.value) == values)
        #expect(decoded.collections.first?.records.first?.stamp == stamp)
    }

    @Test func cellStampsAndNodeTableRoundTrip() throws {
        let record = RecordChange(
            id: "fam1", stamp: stamp(2_000, node: 1),
            cells: [
                Cell(field: 0, value: "Tunis"), Cell(field: 1, value: "0612", stamp: stamp(1_000, 3, node: 2)),
                Cell(field: 2, value: 4, stamp: stamp(3_000, node: 1)),
            ])
        let batch = ChangeBatch([
            CollectionChanges(name: "families", fields: ["city", "phone", "household_size"], records: [record])
        ])
        let bytes = WireBatch.encode(batch)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains("\"nodes\":[\"0000000000000001\",\"0000000000000002\"]"))
        let decoded = try WireBatch.decode(bytes)
        let cells = try #require(decoded.collections.first?.records.first?.cells)
        #expect(cells[1].stamp == stamp(1_000, 3, node: 2))
        #expect(cells[2].stamp == stamp(3_000, node: 1))
    }

    @Test(arguments: [
        ("", "expected a batch object at byte 0, found the end of the body"),
        ("[]", "expected a batch object at byte 0, found an array"),
        ("{\"nodes\":[\"xyz\"]}", "'xyz' is not a node id"),
        (
            "{\"nodes\":[],\"groups\":[{\"collection\":\"families\",\"fields\":[\"city\"],\"records\":[[\"a\",1,0,\"x\"]]}]}",
            "node index 0 is not below 0"
        ),
        (
            "{\"nodes\":[\"0000000000000001\"],\"groups\":[{\"collection\":\"f\",\"fields\":[\"city\"],\"records\":[[\"a\",1,0]]}]}",
            "has 0 values for 1 fields"
        ),
        (
            "{\"nodes\":[\"0000000000000001\"],\"groups\":[{\"collection\":\"f\",\"fields\":[\"c\"],\"records\":[[\"a\",\"1\",0,1]]}]}",
            "expected an hlc delta"
        ),
        (
            "{\"nodes\":[\"0000000000000001\"],\"groups\":[{\"collection\":\"f\",\"fields\":[\"c\"],\"records\":[[\"a\",1,0,[1]]]}]}",
            "expected a field value"
        ),
        (
            "{\"nodes\":[\"0000000000000001\"],\"groups\":[{\"collection\":\"f\",\"fields\":[\"c\"],\"records\":[[\"a\",1,0,99999999999999999999]]}]}",
            "expected an integer within 64 bits"
        ),
        ("{\"nodes\":[]}  x", "expected the end of the body"),
        (String(repeating: "{\"a\":", count: 40) + "1" + String(repeating: "}", count: 40), "levels of nesting"),
        ("{\"nodes\":[\"\\ud800\"]}", "low surrogate"),
    ])
    func badBatchesAreRefusedClearly(body: String, message: String) throws {
        do {
            _ = try WireBatch.decode(Array(body.utf8))
            Issue.record("accepted \(body)")
        } catch {
            #expect(error.code == .invalidBatch)
            #expect(error.message.contains(message), "\(error.message)")
        }
    }

    @Test func randomBytesAndMutationsNeverCrashTheDecoder() throws {
        var rng = SeededGenerator(seed: baseSeed &+ 77)
        var generator = BatchGenerator(seed: baseSeed &+ 78)
        let valid = SyncRequest(
            node: node(5), clockMillis: 1_780_000_000_000,
            push: .init(batch: generator.batch(), to: FeedCursor(base: 3, position: 9)),
            pull: .init(cursor: .start), heartbeat: Heartbeat(app: "t", backlog: 3)
        ).encoded()
        #expect(throws: Never.self) { try SyncRequest(decoding: valid) }
        var decodedOK = 0
        for _ in 0..<20_000 {
            var bytes = valid
            for _ in 0..<Int.random(in: 1...8, using: &rng) {
                let at = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: bytes[at] = UInt8.random(in: 0...255, using: &rng)
                case 1: bytes.remove(at: at)
                case 2: bytes.insert(Array("{}[],\":0-e.\\".utf8).randomElement(using: &rng)!, at: at)
                default: bytes.removeSubrange(at...)
                }
                if bytes.isEmpty { break }
            }
            if (try? SyncRequest(decoding: bytes)) != nil { decodedOK += 1 }
        }
        for _ in 0..<5_000 {
            let bytes = (0..<Int.random(in: 0...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            _ = try? SyncRequest(decoding: bytes)
            _ = Problem(decoding: bytes)
        }
        #expect(decodedOK < 20_000)
    }

    @Test func requestAndResponseRoundTrip() throws {
        var generator = BatchGenerator(seed: baseSeed &+ 5)
        let request = SyncRequest(
            node: node(0x1234), clockMillis: 1_780_000_000_123,
            push: .init(batch: generator.batch(), to: FeedCursor(base: 10, position: 20)),
            pull: .init(cursor: FeedCursor(base: 4, position: 8), limit: 500, budget: 65_536),
            heartbeat: Heartbeat(app: "field/1", backlog: 12, oldestPendingMillis: 5_000, lastError: "offline"))
        let decoded = try SyncRequest(decoding: request.encoded())
        #expect(decoded.node == request.node && decoded.clockMillis == request.clockMillis)
        #expect(
            decoded.push?.to == request.push?.to && decoded.push?.batch.recordCount == request.push?.batch.recordCount)
        #expect(
            decoded.pull?.cursor == request.pull?.cursor && decoded.pull?.limit == 500 && decoded.pull?.budget == 65_536
        )
        #expect(decoded.heartbeat == request.heartbeat)
        let response = SyncResponse(
            node: node(9), clockMillis: 5, pushed: .init(to: FeedCursor(20), records: 3, conflicts: 1),
            pull: .init(batch: generator.batch(), cursor: FeedCursor(base: 1, position: 2), more: true))
        let back = try SyncResponse(decoding: response.encoded())
        #expect(back.pushed == response.pushed && back.pull?.cursor == response.pull?.cursor && back.pull?.more == true)
        let problem = Problem(
            code: "clock-drift", title: "t", status: 409, detail: "d", offsetMillis: -5, serverClockMillis: 7)
        #expect(Problem(decoding: problem.encoded()) == problem)
    }

    @Test(arguments: [ContentCoding.gzip, .zstd, .zstdDictionary])
    func compressedBodiesRoundTripAndRefuseBombs(coding: ContentCoding) throws {
        let text = Array(String(repeating: "food_pack,Tunis,", count: 10_000).utf8)
        let packed = coding.compress(text)
        #expect(packed.count < text.count / 20)
        #expect(try coding.decompress(packed, limit: 1 << 20) == text)
        // Written in parts: one body, readable whole.
        let stream = coding.stream()
        stream.write(Array(text.prefix(1000)))
        #expect(try coding.decompress(stream.finish(Array(text.dropFirst(1000))), limit: 1 << 20) == text)
        // Past the 64 KiB a stream holds, compressed as it goes (zstd-fs1 without its dictionary there).
        let long = coding.stream()
        long.write(Array(text.prefix(70_000)))
        long.write(Array(text.dropFirst(70_000).prefix(50_000)))
        #expect(try coding.decompress(long.finish(Array(text.dropFirst(120_000))), limit: 1 << 20) == text)
        // A bomb stops at the limit; a cut body, garbage and an empty body are refused.
        let bomb = coding.compress([UInt8](repeating: 0x20, count: 8 << 20))
        #expect(bomb.count < 64 << 10)
        #expect(throws: SyncError.self) { try coding.decompress(bomb, limit: 1 << 20) }
        #expect(throws: SyncError.self) {
            try coding.decompress(Array(packed.prefix(packed.count / 2)), limit: 1 << 20)
        }
        #expect(throws: SyncError.self) { try coding.decompress([1, 2, 3], limit: 1 << 20) }
        #expect(throws: SyncError.self) { try coding.decompress([], limit: 1 << 20) }
    }

    @Test func zstdFramesInARowAreOneBody() throws {
        let first = Array("{\"a\":".utf8)
        let second = Array("1}".utf8)
        #expect(try Zstd.decompress(Zstd.compress(first) + Zstd.compress(second), limit: 100) == first + second)
    }

    /// Compression contexts are reused between frames: a context that served another level, a frame
    /// abandoned half written, or a stream on another thread must never leak into the next frame.
    @Test func pooledZstdContextsStartEveryFrameAfresh() async throws {
        func body(_ seed: Int) -> [UInt8] {
            var generator = BatchGenerator(seed: UInt64(seed))
            return WireBatch.encode(generator.batch())
        }
        // What a context makes of a batch at each level, and of 96 KiB of noise (more than the scratch
        // buffer takes at once), before the pool serves the frames below.
        var random = SeededGenerator(seed: 7)
        let noise = (0..<96 * 1024).map { _ in UInt8.random(in: 0...255, using: &random) }
        let sample = body(42)
        let fresh = [Int32(1), 3].map { (Zstd.compress(sample, level: $0), Zstd.compress(noise, level: $0)) }
        // Abandoned streams (their contexts are mid-frame) and finished ones at other levels, in turn.
        for seed in 0..<20 {
            let abandoned = ZstdStream(level: seed % 2 == 0 ? 1 : 3, dictionary: seed % 4 < 2)
            abandoned.write(body(seed))
            // A context that served the wire dictionary, back in the pool.
            let small = body(seed + 300)
            #expect(
                try Zstd.decompress(Zstd.compress(small, dictionary: true), limit: 1 << 24, dictionary: true) == small)
            let level: Int32 = seed % 3 == 0 ? 3 : 1
            let stream = ZstdStream(level: level)
            let (head, tail) = (body(seed + 100), body(seed + 200))
            stream.write(head)
            let frame = stream.finish(tail)
            #expect(try Zstd.decompress(frame, limit: 1 << 24) == head + tail, "seed \(seed)")
            #expect(try Zstd.decompress(Zstd.compress(head, level: level), limit: 1 << 24) == head)
        }
        // Many streams at once, on many threads.
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for seed in 0..<32 {
                group.addTask {
                    let input = body(seed + 1000)
                    let stream = ContentCoding.zstd.stream()
                    stream.write(Array(input.prefix(input.count / 2)))
                    let frame = stream.finish(Array(input.dropFirst(input.count / 2)))
                    return try Zstd.decompress(frame, limit: 1 << 24) == input
                }
            }
            for try await same in group { #expect(same) }
        }
        // Contexts reused after all that keep their level and carry nothing over: the same bytes.
        for (index, level) in [Int32(1), 3].enumerated() {
            #expect(Zstd.compress(sample, level: level) == fresh[index].0, "level \(level)")
            #expect(Zstd.compress(noise, level: level) == fresh[index].1, "level \(level)")
            #expect(try Zstd.decompress(fresh[index].1, limit: 1 << 24) == noise)
        }
    }

    @Test func responseCodingFollowsAcceptEncoding() {
        #expect(ContentCoding.preferred(accepting: "deflate, gzip, br, zstd") == .zstd)
        #expect(ContentCoding.preferred(accepting: "zstd-fs1, zstd, gzip") == .zstdDictionary)
        #expect(ContentCoding.preferred(accepting: "zstd-fs1;q=0, zstd") == .zstd)
        #expect(
            ContentCoding(header: "zstd-fs1") == .zstdDictionary && ContentCoding.zstdDictionary.header == "zstd-fs1")
        #expect(ContentCoding.preferred(accepting: "gzip") == .gzip)
        #expect(ContentCoding.preferred(accepting: "zstd;q=0, gzip;q=0.5") == .gzip)
        #expect(ContentCoding.preferred(accepting: "zstd;q=0.0, gzip; q=0") == .identity)
        #expect(ContentCoding.preferred(accepting: nil) == .identity)
        #expect(ContentCoding(header: "x-gzip") == .gzip && ContentCoding(header: "ZSTD") == .zstd)
        #expect(ContentCoding(header: nil) == .identity && ContentCoding(header: "br") == nil)
    }

    /// docs/protocol.md, section 8 prints the wire dictionary for other clients: the same bytes as the
    /// code's. A small body compresses to well under what zstd alone makes of it, and only a decoder that
    /// has the dictionary reads it.
    @Test func theWireDictionaryIsTheOnePrinted() throws {
        let page = try String(
            contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("../../docs/protocol.md"), encoding: .utf8)
        let section = try #require(page.range(of: "**`zstd-fs1`**"))
        let start = try #require(page.range(of: "```text\n", range: section.upperBound..<page.endIndex))
        let end = try #require(page.range(of: "\n```", range: start.upperBound..<page.endIndex))
        #expect(Array(page[start.upperBound..<end.lowerBound].utf8) == WireDictionary.bytes)
        #expect(WireDictionary.bytes.allSatisfy { (0x20...0x7E).contains($0) || $0 == 0x0A })
        let small = Array(
            #"{"v":1,"node":"5f3a9c0e12ab44d1","push":{"to":"42","batch":{"nodes":["5f3a9c0e12ab44d1"],"groups":[{"collection":"deliveries","fields":["city","family","item","quantity","campaign","delivered_at","volunteer"],"records":[["01KAVWC3WGQSTKG7150003S4EJ",6684672000,0,"Tunis","01KAVW9090QSTKG7150005M5Z4","food_pack",1,"phase-1",1764019802000,"amina"]]}]}},"clock":1764019802000,"lease":{"previous":"9c41d0aa3b2e7f10","next":"02bb8e44f1c9a365"},"pull":{"cursor":"120","limit":1000},"heartbeat":{"app":"field/0.2.0","backlog":1}}"#
                .utf8)
        let (plain, packed) = (Zstd.compress(small), Zstd.compress(small, dictionary: true))
        #expect(packed.count * 2 < plain.count, "\(packed.count) bytes with the dictionary, \(plain.count) without")
        #expect(try Zstd.decompress(packed, limit: 1 << 20, dictionary: true) == small)
        #expect(throws: SyncError.self) { try Zstd.decompress(packed, limit: 1 << 20) }
    }

    @Test func sequenceRangesMergeAndFind() {
        var ranges = SequenceRanges()
        ranges.insert(10...20)
        ranges.insert(30...40)
        ranges.insert(21...25)
        #expect(ranges.ranges == [10...25, 30...40])
        ranges.insert(26...29)
        #expect(ranges.ranges == [10...40])
        ranges.insert(1...2)
        #expect(ranges.contains(1) && ranges.contains(40) && !ranges.contains(3) && !ranges.contains(41))
    }

    /// docs/protocol.md, section 5: a record id the Swift client makes is, in 26 Crockford base32
    /// characters, 48 bits of the creating stamp's milliseconds, bits 62–23 of the node id, the stamp's
    /// 16-bit counter and 24 random bits; the page's Python formula, followed literally, gives the same text.
    @Test func recordIDsCarryMillisNodeBitsCounterAndRandomBits() throws {
        let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)
        var generator = SeededGenerator(seed: baseSeed &+ 11)
        for _ in 0..<1000 {
            let node = NodeID.random(using: &generator)
            let millis = UInt64.random(in: 0...HLCTimestamp.maxMillis, using: &generator)
            let counter = UInt16.random(in: 0...UInt16.max, using: &generator)
            let bits = generator.next()
            let id = RecordID.make(
                stamp: Stamp(hlc: HLCTimestamp(millis: millis, counter: counter), node: node), random: bits)
            #expect(id.utf8.count == 26 && RecordRef.isValidID(id))
            var value: UInt128 = 0
            for byte in id.utf8 { value = value << 5 | UInt128(try #require(alphabet.firstIndex(of: byte))) }
            let node40 = UInt64(node.rawValue) >> 23  // the 40 most significant of the node id's 63 bits
            #expect(value >> 80 == UInt128(millis))
            #expect((value >> 40) & 0xFF_FFFF_FFFF == UInt128(node40))
            #expect((value >> 24) & 0xFFFF == UInt128(counter))
            let random = value & 0xFF_FFFF
            #expect(random == UInt128(bits & 0xFF_FFFF))
            let formula = UInt128(millis) << 80 | UInt128(node40) << 40 | UInt128(counter) << 24 | random
            let text = (0..<26).map { alphabet[Int((formula >> (125 - 5 * $0)) & 31)] }
            #expect(String(decoding: text, as: UTF8.self) == id)
        }
    }

    /// `cause` is additive (docs/protocol.md, section 13): a problem with it round-trips; one without it (an
    /// older server) decodes with none; a cause this version does not know is kept as it came.
    @Test func theClockDriftCauseIsAdditive() throws {
        let error = SyncError(.clockDrift, "off", clockOffsetMillis: -5, clockDriftCause: .stampsAhead)
        let problem = Problem(error, status: 409, title: "t", serverClockMillis: 7)
        #expect(problem.cause == "stamps-ahead" && problem.clockDriftCause == .stampsAhead)
        #expect(problem.offsetMillis == -5 && problem.serverClockMillis == 7)
        #expect(String(decoding: problem.encoded(), as: UTF8.self).contains(#""cause":"stamps-ahead""#))
        #expect(Problem(decoding: problem.encoded()) == problem)
        let old = #"{"type":"urn:fieldsync:problem:clock-drift","title":"t","status":409,"detail":"d","offset_ms":-5}"#
        let decoded = try #require(Problem(decoding: Array(old.utf8)))
        #expect(decoded.cause == nil && decoded.clockDriftCause == nil && decoded.offsetMillis == -5)
        let newer = #"{"type":"urn:fieldsync:problem:clock-drift","title":"t","status":409,"detail":"d","cause":"x-y"}"#
        #expect(Problem(decoding: Array(newer.utf8))?.clockDriftCause == ClockDriftCause("x-y"))
        // Other problems carry none.
        #expect(Problem(SyncError(.duplicateNode, "x"), status: 409, title: "t", serverClockMillis: 7).cause == nil)
    }
}

import FieldDomain
import Foundation
import SyncClient
import SyncCore
import Testing

/// Bad requests get the specified 4xx problem document, and the server's data is unchanged.
@Suite("Bad input", .serialized)
struct BadInputTests {
    struct Case {
        var name: String
        var body: [UInt8]
        var headers: [String] = ["Content-Type: application/json"]
        var method = "POST"
        var path = "/v1/sync"
        var status: Int
        var code: SyncError.Code
    }

    @Test func badRequestsAreRefusedAndChangeNothing() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let db = directory.appendingPathComponent("central.db").path
        let token = try issueToken(db: db, role: "device", city: "Tunis", name: "d", directory: directory)
        let server = try ServerProcess(database: db)
        defer { server.stop() }
        // Some data first, through the real client.
        let device = try TestDevice(
            name: "d", city: "Tunis", directory: directory, server: server.url, token: token.token)
        try device.work(families: 5, deliveriesEach: 2)
        try device.sync()
        let node = device.replica.nodeID
        let now = SystemClock().nowMillis()
        func batch(
            _ collection: String, _ fields: [String], _ values: [Value], stampNode: NodeID = node, millis: UInt64 = now
        ) -> ChangeBatch {
            ChangeBatch([
                CollectionChanges(
                    name: collection, fields: fields,
                    records: [
                        RecordChange(
                            id: "bad-\(collection)",
                            stamp: Stamp(hlc: HLCTimestamp(millis: millis, counter: 0), node: stampNode),
                            cells: values.enumerated().map { Cell(field: $0, value: $1) })
                    ])
            ])
        }
        func push(_ batch: ChangeBatch, clock: UInt64 = now) -> [UInt8] {
            SyncRequest(node: node, clockMillis: Int64(clock), push: .init(batch: batch, to: FeedCursor(99))).encoded()
        }
        let family = ["city", "reference", "head_name"]
        let head = "{\"v\":1,\"node\":\"\(node)\",\"clock\":\(now)"
        let cases: [Case] = [
            Case(name: "malformed JSON", body: Array("\(head),\"push\":{".utf8), status: 400, code: "invalid-batch"),
            Case(name: "not JSON", body: Array("hello".utf8), status: 400, code: "invalid-batch"),
            Case(
                name: "wrong type", body: Array("{\"v\":1,\"node\":\"\(node)\",\"clock\":\"noon\"}".utf8), status: 400,
                code: "invalid-batch"),
            Case(
                name: "wrong protocol", body: Array("{\"v\":2,\"node\":\"\(node)\",\"clock\":\(now)}".utf8),
                status: 400, code: "invalid-batch"),
            Case(
                name: "bad cursor", body: Array("\(head),\"pull\":{\"cursor\":\"9:1\"}}".utf8), status: 400,
                code: "invalid-batch"),
            Case(
                name: "deep nesting", body: Array("\(head),\"x\":\(String(repeating: "[", count: 100_000))}".utf8),
                status: 400, code: "invalid-batch"),
            Case(
                name: "unknown collection", body: push(batch("famillies", family, ["Tunis", "R", "H"])), status: 422,
                code: "unknown-collection"),
            Case(
                name: "value of the wrong type",
                body: push(batch("families", family + ["household_size"], ["Tunis", "R", "H", "four"])), status: 200,
                code: "invalid-value"),
            Case(
                name: "fact missing a required field",
                body: push(batch("deliveries", ["city", "item"], ["Tunis", "food_pack"])), status: 200,
                code: "invalid-value"),
            Case(
                name: "stamp far in the future",
                body: push(batch("families", family, ["Tunis", "R", "H"], millis: now + 86_400_000)), status: 409,
                code: "clock-drift"),
            Case(
                name: "client clock a year behind",
                body: push(batch("families", family, ["Tunis", "R", "H"]), clock: now - 365 * 86_400_000), status: 409,
                code: "clock-drift"),
            Case(
                name: "forged origin node",
                body: push(batch("families", family, ["Tunis", "R", "H"], stampNode: NodeID(rawValue: 0x5eed)!)),
                status: 403, code: "out-of-scope"),
            Case(
                name: "other city", body: push(batch("families", family, ["Sfax", "R", "H"])), status: 200,
                code: "out-of-scope"),
            Case(
                name: "wrong content type", body: Array("{}".utf8), headers: ["Content-Type: text/csv"], status: 415,
                code: "unsupported-media-type"),
            Case(
                name: "unknown encoding", body: Array("{}".utf8),
                headers: ["Content-Type: application/json", "Content-Encoding: br"], status: 415,
                code: "unsupported-encoding"),
            Case(
                name: "corrupt gzip", body: [0x1f, 0x8b, 8, 0, 1, 2, 3],
                headers: ["Content-Type: application/json", "Content-Encoding: gzip"], status: 400,
                code: "invalid-encoding"),
            Case(
                name: "gzip bomb", body: Gzip.compress([UInt8](repeating: 0x20, count: 80 << 20)),
                headers: ["Content-Type: application/json", "Content-Encoding: gzip"], status: 413, code: "too-large"),
            Case(
                name: "corrupt zstd", body: [0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3],
                headers: ["Content-Type: application/json", "Content-Encoding: zstd"], status: 400,
                code: "invalid-encoding"),
            Case(
                name: "zstd bomb", body: Zstd.compress([UInt8](repeating: 0x20, count: 80 << 20)),
                headers: ["Content-Type: application/json", "Content-Encoding: zstd"], status: 413, code: "too-large"),
            Case(name: "oversize body", body: [UInt8](repeating: 0x20, count: 9 << 20), status: 413, code: "too-large"),
            Case(name: "unknown route", body: [], method: "GET", path: "/v1/nothing", status: 404, code: "not-found"),
        ]
        let before = try Replica(path: db, schema: .fieldSync, logger: quietLogger)
        let dumpBefore = try before.dump()
        let headBefore = try before.headCursor()
        let transport = CurlTransport(
            configuration: ClientConfiguration(serverURL: server.url, token: ""), logger: quietLogger)
        for test in cases {
            let result = try transport.raw(
                method: test.method, path: test.path, headers: test.headers + ["Authorization: Bearer \(token.token)"],
                body: test.method == "POST" ? test.body : nil)
            #expect(
                result.status == test.status,
                "\(test.name): \(String(decoding: result.body.prefix(300), as: UTF8.self))")
            #expect(!String(decoding: result.body, as: UTF8.self).contains(token.token), "\(test.name)")
            if test.status == 200 {
                // A refusal about data: the record is named in the answer, nothing of it is applied.
                #expect(refusedCodes(result.body) == [test.code], "\(test.name)")
                continue
            }
            #expect(result.contentType == "application/problem+json", "\(test.name)")
            #expect(!String(decoding: result.body, as: UTF8.self).contains(token.token), "\(test.name)")
            let problem = Problem(decoding: result.body)
            #expect(problem?.code == test.code, "\(test.name): \(problem?.detail ?? "no problem document")")
            #expect(problem?.status == test.status, "\(test.name)")
            if test.code == "clock-drift" { #expect(problem?.offsetMillis != nil && problem?.serverClockMillis != nil) }
        }
        #expect(try before.dump() == dumpBefore)
        #expect(try before.headCursor() == headBefore)
        #expect(try before.integrityCheck() == "ok")
        // The server is still fine: the device syncs.
        try device.work(families: 1, deliveriesEach: 1)
        #expect(try device.sync().pushed == 2)
        server.stop()  // the whole log, not what has been read of it so far
        #expect(!server.logText.contains(token.token))
    }

    /// The same refusals for a push large enough to merge while it decodes (the server streams bodies
    /// from 32 KiB on): the one bad record comes last, after hundreds of good ones the server has not
    /// seen. A refusal about the request leaves none of them; a refusal about the record's data leaves
    /// every one but that record.
    @Test func aLargePushWithOneBadRecordLast() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let db = directory.appendingPathComponent("central.db").path
        let token = try issueToken(db: db, role: "device", city: "Tunis", name: "d", directory: directory)
        let server = try ServerProcess(database: db)
        defer { server.stop() }
        let device = try TestDevice(
            name: "d", city: "Tunis", directory: directory, server: server.url, token: token.token)
        try device.work(families: 2, deliveriesEach: 2)
        try device.sync()  // binds the token to the device's node
        let synced = try device.replica.headCursor()
        try device.work(families: 4, deliveriesEach: 150)
        let page = try device.replica.changes(since: synced, limit: 1000)
        #expect(page.batch.recordCount == 604 && !page.hasMore)
        let node = device.replica.nodeID
        let now = SystemClock().nowMillis()
        func push(_ bad: CollectionChanges?, clock: UInt64 = now) -> [UInt8] {
            var batch = page.batch
            if let bad { batch.collections.append(bad) }
            return SyncRequest(node: node, clockMillis: Int64(clock), push: .init(batch: batch, to: page.cursor))
                .encoded()
        }
        func family(
            _ values: [Value], fields: [String] = ["city", "reference", "head_name"], stampNode: NodeID? = nil,
            millis: UInt64 = now
        )
            -> CollectionChanges
        {
            CollectionChanges(
                name: "families", fields: fields,
                records: [
                    RecordChange(
                        id: "bad-family",
                        stamp: Stamp(hlc: HLCTimestamp(millis: millis, counter: 0), node: stampNode ?? node),
                        cells: values.enumerated().map { Cell(field: $0, value: $1) })
                ])
        }
        let good = push(nil)
        #expect(good.count >= 32 * 1024)
        let cases: [(name: String, body: [UInt8], status: Int, code: SyncError.Code)] = [
            ("cut short", Array(good.dropLast(40)), 400, "invalid-batch"),
            (
                "unknown collection",
                push(CollectionChanges(name: "famillies", fields: ["city"], records: family(["Tunis"]).records)), 422,
                "unknown-collection"
            ),
            (
                "stamp far in the future", push(family(["Tunis", "R", "H"], millis: now + 86_400_000)), 409,
                "clock-drift"
            ),
            (
                "client clock a year behind", push(family(["Tunis", "R", "H"]), clock: now - 365 * 86_400_000), 409,
                "clock-drift"
            ),
            (
                "forged origin node", push(family(["Tunis", "R", "H"], stampNode: NodeID(rawValue: 0x5eed)!)), 403,
                "out-of-scope"
            ),
            // Refusals about data, last: the bad record alone is refused, the hundreds before it are applied.
            ("other city", push(family(["Sfax", "R", "H"])), 200, "out-of-scope"),
            (
                "value of the wrong type",
                push(
                    family(["Tunis", "R", "H", "four"], fields: ["city", "reference", "head_name", "household_size"])),
                200, "invalid-value"
            ),
        ]
        let before = try Replica(path: db, schema: .fieldSync, logger: quietLogger)
        let dumpBefore = try before.dump()
        let headBefore = try before.headCursor()
        let transport = CurlTransport(
            configuration: ClientConfiguration(serverURL: server.url, token: ""), logger: quietLogger)
        for test in cases {
            let result = try transport.raw(
                method: "POST", path: "/v1/sync",
                headers: ["Content-Type: application/json", "Authorization: Bearer \(token.token)"], body: test.body)
            let problem = Problem(decoding: result.body)
            #expect(result.status == test.status, "\(test.name): \(problem?.detail ?? "no problem document")")
            if test.status == 200 {
                #expect(refusedCodes(result.body) == [test.code], "\(test.name)")
                #expect(try before.record("families", id: "bad-family") == nil, "\(test.name)")
                #expect(try before.changes(since: .start, limit: 5000).batch.recordCount == 610, "\(test.name)")
                continue
            }
            #expect(problem?.code == test.code, "\(test.name): \(problem?.detail ?? "no problem document")")
            #expect(try before.dump() == dumpBefore, "\(test.name)")
            #expect(try before.headCursor() == headBefore, "\(test.name)")
        }
        #expect(try before.integrityCheck() == "ok")
        // The good push goes through, whole, and the device then has nothing left to send.
        let accepted = try transport.raw(
            method: "POST", path: "/v1/sync",
            headers: ["Content-Type: application/json", "Authorization: Bearer \(token.token)"], body: good)
        #expect(accepted.status == 200, "\(String(decoding: accepted.body.prefix(300), as: UTF8.self))")
        #expect(try before.changes(since: .start, limit: 5000).batch.recordCount == 610)
        try device.sync()
        #expect(try before.dump() == device.replica.dump())
    }

    /// A `clock-drift` problem says what is off, `cause`, as the server decided it (docs/protocol.md,
    /// section 13): a client written from the documents alone then knows whether to correct its clock or
    /// only its stamps. Before, the body had no `cause`, and a client that added `offset_ms` to a right
    /// clock (old stamps, corrected clock) was refused the other way, for ever.
    @Test func clockDriftSaysWhetherTheClockOrTheStampsAreOff() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let db = directory.appendingPathComponent("central.db").path
        let device = try issueToken(db: db, role: "device", city: "Tunis", name: "d", directory: directory)
        let hub = try issueToken(db: db, role: "hub", city: "Tunis", name: "h", directory: directory)
        let server = try ServerProcess(database: db)
        defer { server.stop() }
        let transport = CurlTransport(
            configuration: ClientConfiguration(serverURL: server.url, token: ""), logger: quietLogger)
        let (deviceNode, hubNode, hubsDevice) = (
            NodeID(rawValue: 0x1111)!, NodeID(rawValue: 0x2222)!, NodeID(rawValue: 0x3333)!
        )
        let now = SystemClock().nowMillis()
        let (minute, year): (UInt64, UInt64) = (60_000, 365 * 86_400_000)
        func push(_ node: NodeID, clock: UInt64, stampedBy writer: NodeID? = nil, at millis: UInt64) -> SyncRequest {
            let stamp = Stamp(hlc: HLCTimestamp(millis: millis, counter: 0), node: writer ?? node)
            let group = CollectionChanges(
                name: "families", fields: ["city", "reference", "head_name"],
                records: [
                    RecordChange(
                        id: "f-\(millis)", stamp: stamp,
                        cells: [Cell(field: 0, value: "Tunis"), Cell(field: 1, value: "R"), Cell(field: 2, value: "H")])
                ])
            return SyncRequest(
                node: node, clockMillis: Int64(clock), push: .init(batch: ChangeBatch([group]), to: FeedCursor(1)))
        }
        func send(_ token: String, _ request: SyncRequest) throws -> (status: Int, body: [String: Any]) {
            let result = try transport.raw(
                method: "POST", path: "/v1/sync",
                headers: ["Content-Type: application/json", "Authorization: Bearer \(token)"], body: request.encoded())
            let body = try JSONSerialization.jsonObject(with: Data(result.body)) as? [String: Any] ?? [:]
            return (result.status, body)
        }
        func number(_ value: Any?) -> Int64? { (value as? NSNumber)?.int64Value }
        let cases: [(name: String, token: String, request: SyncRequest, cause: String, offset: Int64)] = [
            (
                "clock 2 h ahead", device.token, push(deviceNode, clock: now + 120 * minute, at: now), "clock-ahead",
                -Int64(120 * minute)
            ),
            (
                "clock a year behind", device.token, push(deviceNode, clock: now - year, at: now - year),
                "clock-behind",
                Int64(year)
            ),
            (
                "right clock, a stamp an hour ahead", device.token, push(deviceNode, clock: now, at: now + 60 * minute),
                "stamps-ahead", -Int64(60 * minute)
            ),
            (
                "a hub relays a stamp 20 min ahead", hub.token,
                push(hubNode, clock: now, stampedBy: hubsDevice, at: now + 20 * minute), "relayed-stamps-ahead",
                -Int64(20 * minute)
            ),
        ]
        for test in cases {
            let (status, problem) = try send(test.token, test.request)
            #expect(status == 409, "\(test.name): \(problem)")
            #expect(problem["type"] as? String == "urn:fieldsync:problem:clock-drift", "\(test.name)")
            #expect(problem["cause"] as? String == test.cause, "\(test.name): \(problem)")
            // offset_ms: what to add to the refused stamps (within the time the test takes).
            let offset = try #require(number(problem["offset_ms"]), "\(test.name)")
            #expect(abs(offset - test.offset) < 60_000, "\(test.name): \(offset)")
            #expect(abs((number(problem["server_clock"]) ?? 0) - Int64(now)) < 60_000, "\(test.name)")
        }
        // A request that pushes nothing is never refused for its clock: its answer tells the time.
        let (status, answer) = try send(
            device.token, SyncRequest(node: deviceNode, clockMillis: Int64(now - year), pull: .init(cursor: .start)))
        #expect(status == 200, "\(answer)")
        #expect(abs((number(answer["clock"]) ?? 0) - Int64(now)) < 60_000)
    }
}

import FieldDomain
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SyncCore
import Testing

/// A large push from a bound token merges while its body decodes (`PushStream`): it is applied exactly as a
/// whole push would be, and a body that fails late (cut short, or a record another node stamped) leaves
/// nothing behind and does not hold the write lock.
@Suite("Router: streamed push")
struct StreamedPushRouterTests {
    /// `count` families of Tunis stamped by `node` (about 46 bytes each: 1,500 make a body the server streams).
    static func families(_ count: Int, node: NodeID, prefix: String = "F") -> ChangeBatch {
        let millis = SystemClock().nowMillis()
        return ChangeBatch([
            CollectionChanges(
                name: "families", fields: ["city", "reference", "head_name"],
                records: (0..<count).map { index in
                    RecordChange(
                        id: "\(prefix)\(String(format: "%05d", index))",
                        stamp: Stamp(hlc: HLCTimestamp(millis: millis, counter: UInt16(index % 1000)), node: node),
                        cells: [
                            Cell(field: 0, value: "Tunis"), Cell(field: 1, value: .text("TN-\(prefix)\(index)")),
                            Cell(field: 2, value: .text("Family \(index)")),
                        ])
                })
        ])
    }

    static func head(_ client: any TestClientProtocol) async throws -> String? {
        try RouterTests.health(await client.execute(uri: "/healthz", method: .get))["head"]
    }

    static func streamed(_ client: any TestClientProtocol) async throws -> Double {
        RouterTests.sample(try await RouterTests.metrics(client), "fieldsync_pushes_streamed_total")
    }

    @Test func aLargePushFromABoundTokenStreamsAndFailuresLeaveNothing() async throws {
        let fixture = try RouterFixture()
        defer { fixture.remove() }
        let amina = try await fixture.issue(.device, city: "Tunis", name: "amina-phone")
        let karim = try await fixture.issue(.device, city: "Tunis", name: "karim-phone")
        let app = try await fixture.makeApplication()
        try await app.test(.router) { client in
            let node = NodeID.random()
            // The first sync binds the token to the node (a push then would not stream: binding writes).
            let first = try await RouterTests.sync(
                client, token: amina,
                SyncRequest(node: node, clockMillis: RouterTests.now(), pull: .init(cursor: .start)))
            #expect(first.status == .ok)
            let before = try await Self.head(client)

            // Cut short after hundreds of records were handed on: refused, nothing applied.
            let batch = Self.families(1500, node: node)
            let request = SyncRequest(
                node: node, clockMillis: RouterTests.now(), push: .init(batch: batch, to: FeedCursor(1)))
            let body = request.encoded()
            #expect(body.count > 40_000)
            let streamedBefore = try await Self.streamed(client)
            let cut = try await client.execute(
                uri: "/v1/sync", method: .post,
                headers: [.authorization: "Bearer \(amina)", .contentType: "application/json"],
                body: ByteBuffer(bytes: body.dropLast(40)))
            #expect(cut.status == .badRequest)
            #expect(try await Self.streamed(client) >= streamedBefore + 1)
            #expect(try await Self.head(client) == before)

            // The last record stamped by another node: the whole request refused, nothing applied.
            var foreign = batch
            foreign.collections[0].records[1499].stamp.node = NodeID.random()
            let refused = try await RouterTests.sync(
                client, token: amina,
                SyncRequest(node: node, clockMillis: RouterTests.now(), push: .init(batch: foreign, to: FeedCursor(1))))
            #expect(refused.status == .forbidden)
            #expect(try await Self.head(client) == before)

            // The write lock is free, and the streamed push applies as a whole one would.
            let streamedNow = try await Self.streamed(client)
            let pushed = try await RouterTests.sync(client, token: amina, request)
            #expect(pushed.status == .ok)
            #expect(try await Self.streamed(client) >= streamedNow + 1)
            let answer = try SyncResponse(decoding: RouterTests.bytes(pushed))
            #expect(answer.pushed == .init(to: FeedCursor(1), records: 1500, conflicts: 0))
            #expect(try await Self.head(client) != before)

            let other = try await RouterTests.sync(
                client, token: karim,
                SyncRequest(node: .random(), clockMillis: RouterTests.now(), pull: .init(cursor: .start, limit: 2000)))
            let page = try #require(try SyncResponse(decoding: RouterTests.bytes(other)).pull)
            #expect(RouterTests.familyIDs(page.batch).sorted() == batch.collections[0].records.map(\.id))
        }
    }

    /// A body that renames its group after the records it handed on, or names a second node after its
    /// push, is refused whole (it once committed under the first name, or echoed under the first node).
    @Test func aGroupOrANodeNamedTwiceIsRefusedAndLeavesNothing() async throws {
        let fixture = try RouterFixture()
        defer { fixture.remove() }
        let amina = try await fixture.issue(.device, city: "Tunis", name: "amina-phone")
        let admin = try await fixture.issue(.admin, city: nil, name: "admin")
        let app = try await fixture.makeApplication()
        try await app.test(.router) { client in
            let node = NodeID.random()
            let first = try await RouterTests.sync(
                client, token: amina,
                SyncRequest(node: node, clockMillis: RouterTests.now(), pull: .init(cursor: .start)))
            #expect(first.status == .ok)
            let before = try await Self.head(client)
            // 32 + 128 × 11 records: every run is handed on before the group's end.
            let request = SyncRequest(
                node: node, clockMillis: RouterTests.now(),
                push: .init(batch: Self.families(1440, node: node), to: FeedCursor(1)))
            let body = String(decoding: request.encoded(), as: UTF8.self)
            let end = try #require(body.range(of: "]}]}"))
            let renamed = body.replacingCharacters(in: end, with: "],\"collection\":\"nope\"}]}")
            let refused = try await client.execute(
                uri: "/v1/sync", method: .post,
                headers: [.authorization: "Bearer \(amina)", .contentType: "application/json"],
                body: ByteBuffer(string: renamed))
            #expect(refused.status == .badRequest)
            #expect(try await Self.head(client) == before)

            let other = NodeID.random()
            var twice = String(decoding: request.encoded(), as: UTF8.self)
            twice.removeLast()
            twice += ",\"node\":\"\(other)\"}"
            let answer = try await client.execute(
                uri: "/v1/sync", method: .post,
                headers: [.authorization: "Bearer \(admin)", .contentType: "application/json"],
                body: ByteBuffer(string: twice))
            #expect(answer.status == .badRequest)
            #expect(try await Self.head(client) == before)
        }
    }
}

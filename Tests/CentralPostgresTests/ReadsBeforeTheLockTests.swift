import CentralPostgres
import FieldDomain
import Foundation
import PostgresNIO
import SyncCore
import Testing

/// A merge reads before it takes the feed's lock (decision record 0015), so another writer may commit
/// between its reads and its write. Here a device's push makes its reads, then waits for the lock while
/// the admin's merge, holding it, changes a record and commits. The push must end as if it had run after
/// the admin's merge, whole.
@Suite("PostgreSQL: a merge's reads before the lock", .postgresCluster)
struct ReadsBeforeTheLockTests {
    static let schema = try! Schema(Schema.fieldSync.collections)
    static let t0 = MergeEquivalenceTests.t0
    static let now = MergeEquivalenceTests.now
    static let admin = NodeID(rawValue: 0xAD)!
    static let device = NodeID(rawValue: 0xDE)!

    /// F1 moved to Rabat meanwhile: the push's edit of F1 is refused (F1 is no longer in its scope), and the
    /// move stays. Read without the check, the push wrote F1 back as it had read it, in Fès: the move lost.
    @Test func aRowChangedMeanwhileIsReadAgain() async throws {
        try await withTestDatabase { database in
            let store = try await PostgresStore(database, schema: Self.schema)
            let outcome = try await Self.pushWhile(
                store, database, push: Self.family("F1", "phone", "0611111111", at: 3, by: Self.device),
                adminChanges: Self.family("F1", "city", "Rabat", at: 2, by: Self.admin))
            #expect(outcome.readAgain)
            #expect(outcome.report.refused.map(\.id) == ["F1"])
            #expect(try await Self.family("F1", database) == ["Rabat", "0600000000"])
        }
    }

    /// The admin changed another family: nothing the push read changed, so it is not read again, and both
    /// changes are there, each with its own sequence. The push was decided on the head before the admin's
    /// write, and its write moved its sequences past it (decision record 0023), the phone's own included:
    /// a reader whose cursor is at the admin's change is sent the phone (written at the sequence the
    /// push had decided, it was not).
    @Test func aChangeElsewhereCostsNoSecondRead() async throws {
        try await withTestDatabase { database in
            let store = try await PostgresStore(database, schema: Self.schema)
            let outcome = try await Self.pushWhile(
                store, database, push: Self.family("F1", "phone", "0611111111", at: 3, by: Self.device),
                adminChanges: Self.family("F2", "city", "Rabat", at: 2, by: Self.admin))
            #expect(!outcome.readAgain)
            #expect(outcome.report.refused.isEmpty)
            #expect(try await Self.family("F1", database) == ["Fès", "0611111111"])
            #expect(try await Self.family("F2", database) == ["Rabat", "0600000000"])
            let page = try await store.changes(since: .start, limit: 100, filter: .all)
            #expect(page.cursor == outcome.report.cursor)
            #expect(try await Self.fieldsSent(store, after: outcome.report.cursor.position - 1) == ["F1.phone"])
        }
    }

    /// A push that takes no sequence (here an empty one; a device's push whose records were all refused
    /// is another) leaves the head where the admin's write put it. (Written as the head the push was
    /// decided on, the head went back below the admin's change, and the next writer took that sequence
    /// again.)
    @Test func aPushThatTakesNoSequenceLeavesTheHeadWhereItIs() async throws {
        try await withTestDatabase { database in
            let store = try await PostgresStore(database, schema: Self.schema)
            let outcome = try await Self.pushWhile(
                store, database, push: ChangeBatch([CollectionChanges(name: "families", fields: ["phone"])]),
                adminChanges: Self.family("F2", "phone", "0633333333", at: 2, by: Self.admin))
            let (head, last) = try await Self.heads(database)
            #expect(head == last)
            #expect(outcome.report.cursor.position == head)
        }
    }

    /// An unknown field (a newer app's) keeps its sequence inside `_extra`, which the write statement does
    /// not move: written while the admin commits, the push is made again with the lock first, and a
    /// reader at the admin's change is sent the field. (Written at the sequence the push had decided,
    /// the field was not sent.)
    @Test func anUnknownFieldWrittenMeanwhileIsSentPastTheOtherWrite() async throws {
        try await withTestDatabase { database in
            let store = try await PostgresStore(database, schema: Self.schema)
            let outcome = try await Self.pushWhile(
                store, database, push: Self.family("F1", "whatsapp", "0622222222", at: 3, by: Self.device),
                adminChanges: Self.family("F2", "city", "Rabat", at: 2, by: Self.admin))
            #expect(outcome.readAgain)
            #expect(try await Self.fieldsSent(store, after: outcome.report.cursor.position - 1) == ["F1.whatsapp"])
        }
    }

    /// A push refuses a record (a family of Rabat, pushed from Fès) while another writer holds the feed's
    /// lock and keeps the same refusal (a hub relaying the device's push). Both end, the refusal kept once.
    /// (With the push keeping its refusals before its write, each waited for the other: PostgreSQL found
    /// the deadlock after a second and failed one of them.)
    @Test func aRefusalKeptMeanwhileByTheLockHolderIsNoDeadlock() async throws {
        try await withTestDatabase { database in
            let store = try await PostgresStore(database, schema: Self.schema)
            try await Self.registerFamilies(store)
            var group = CollectionChanges(name: "families", fields: ["city", "reference", "head_name"])
            let stamp = Stamp(hlc: HLCTimestamp(millis: Self.t0 + 3, counter: 0), node: Self.device)
            group.records.append(
                RecordChange(
                    id: "F9", stamp: stamp,
                    cells: [
                        Cell(field: 0, value: "Rabat"), Cell(field: 1, value: "R-F9"), Cell(field: 2, value: "Amina"),
                    ]
                ))
            let push = ChangeBatch([group])
            let plan = try BatchPlan(push, schema: store.schema, sender: Self.device, scope: "Fès")
            let (locked, lockTaken) = AsyncStream.makeStream(of: Void.self)
            let refused = try await withThrowingTaskGroup(of: [String]?.self) { tasks in
                tasks.addTask {
                    try await database.withTransaction { connection in
                        try await connection.query("SELECT seq FROM _meta WHERE id = 1 FOR UPDATE", logger: quietLogger)
                        lockTaken.finish()
                        try await Self.waitForAWriterOnTheLock(database)
                        try await connection.query(
                            """
                            INSERT INTO _refused (collection, record_id, code, detail, hlc, node, source, at_ms)
                            VALUES ('families', 'F9', 'scope', 'relayed', \(stamp.hlc.storage), \(stamp.node.rawValue), \
                            'hub', 0) ON CONFLICT (collection, record_id, hlc, node) DO NOTHING
                            """, logger: quietLogger)
                    }
                    return nil
                }
                tasks.addTask {
                    for await _ in locked {}
                    let outcome = try await store.mergeInTransaction(
                        push, plan: plan, from: ClientPush.peerKey(client: Self.device), scope: "Fès", now: Self.now)
                    return outcome.report.refused.map(\.id)
                }
                var refused: [String]?
                for try await result in tasks where result != nil { refused = result }
                return try #require(refused)
            }
            #expect(refused == ["F9"])
            let kept = try await database.withConnection { connection in
                var count = 0
                for try await found in try await connection.query(
                    "SELECT count(*) FROM _refused WHERE record_id = 'F9'", logger: quietLogger
                ).decode(Int.self) {
                    count = found
                }
                return count
            }
            #expect(kept == 1)
        }
    }

    /// The fields a reader whose cursor is at `position` is sent, as `id.field`.
    static func fieldsSent(_ store: PostgresStore, after position: Int64) async throws -> [String] {
        let page = try await store.changes(since: FeedCursor(position), limit: 100, filter: .all)
        return page.batch.collections.flatMap { group in
            group.records.flatMap { record in record.cells.map { "\(record.id).\(group.fields[$0.field])" } }
        }
    }

    /// `_meta`'s head and the last sequence of the families' table.
    static func heads(_ database: CentralPostgres.PostgresDatabase) async throws -> (Int64, Int64) {
        try await database.withConnection { connection in
            for try await pair in try await connection.query(
                "SELECT (SELECT seq FROM _meta WHERE id = 1), (SELECT max(_seq) FROM families)", logger: quietLogger
            ).decode((Int64, Int64).self) {
                return pair
            }
            return (0, 0)
        }
    }

    /// The catalogue was empty when the push read it (every built-in item allowed), and the admin added an
    /// item meanwhile (now only the catalogue's items are): the push's delivery of a food pack is refused,
    /// as it is after the admin's merge. A collection the rules read whole counts whole.
    @Test func aCollectionReadWholeChangedMeanwhileIsReadAgain() async throws {
        try await withTestDatabase { database in
            let store = try await PostgresStore(database, schema: .fieldSync)
            var item = CollectionChanges(name: "items", fields: ["name_fr"])
            item.records.append(
                RecordChange(
                    id: "blanket", stamp: Stamp(hlc: HLCTimestamp(millis: Self.t0 + 2, counter: 0), node: Self.admin),
                    cells: [Cell(field: 0, value: "Couverture")]))
            var delivery = CollectionChanges(
                name: "deliveries", fields: ["city", "family", "item", "quantity", "delivered_at", "volunteer"])
            delivery.records.append(
                RecordChange(
                    id: "D1", stamp: Stamp(hlc: HLCTimestamp(millis: Self.t0 + 3, counter: 0), node: Self.device),
                    cells: [
                        Cell(field: 0, value: "Fès"), Cell(field: 1, value: "F1"), Cell(field: 2, value: "food_pack"),
                        Cell(field: 3, value: .integer(1)), Cell(field: 4, value: .integer(Int64(Self.t0))),
                        Cell(field: 5, value: "Amina"),
                    ]))
            let outcome = try await Self.pushWhile(
                store, database, push: ChangeBatch([delivery]), adminChanges: ChangeBatch([item]))
            #expect(outcome.readAgain)
            #expect(outcome.report.refused.map(\.id) == ["D1"])
        }
    }

    /// F1 and F2 in Fès; then the device's push reads, and waits for the lock that the admin's merge of
    /// `adminChanges` holds until it commits.
    static func pushWhile(
        _ store: PostgresStore, _ database: CentralPostgres.PostgresDatabase, push: ChangeBatch,
        adminChanges: ChangeBatch
    ) async throws -> (report: ApplyReport, readAgain: Bool) {
        try await registerFamilies(store)
        let schema = store.schema
        let plan = try BatchPlan(push, schema: schema, sender: device, scope: "Fès")
        // The push starts once the admin's transaction holds the lock.
        let (locked, lockTaken) = AsyncStream.makeStream(of: Void.self)
        return try await withThrowingTaskGroup(of: (report: ApplyReport, readAgain: Bool)?.self) { group in
            group.addTask {
                try await database.withTransaction { connection in
                    try await connection.query("SELECT seq FROM _meta WHERE id = 1 FOR UPDATE", logger: quietLogger)
                    lockTaken.finish()
                    try await Self.waitForAWriterOnTheLock(database)
                    _ = try await store.merge(
                        adminChanges, plan: BatchPlan(adminChanges, schema: schema, sender: nil, scope: nil), from: nil,
                        scope: nil, now: now, connection: connection, before: { _ in })
                }
                return nil
            }
            group.addTask {
                for await _ in locked {}
                let outcome = try await store.mergeInTransaction(
                    push, plan: plan, from: ClientPush.peerKey(client: device), scope: "Fès", now: now)
                return (outcome.report, outcome.readAgain)
            }
            var outcome: (report: ApplyReport, readAgain: Bool)?
            for try await result in group where result != nil { outcome = result }
            return try #require(outcome)
        }
    }

    /// F1 and F2, families of Fès, registered by the admin.
    static func registerFamilies(_ store: PostgresStore) async throws {
        for id in ["F1", "F2"] {
            var group = CollectionChanges(name: "families", fields: ["city", "reference", "head_name", "phone"])
            group.records.append(
                RecordChange(
                    id: id, stamp: Stamp(hlc: HLCTimestamp(millis: t0, counter: 0), node: admin),
                    cells: [
                        Cell(field: 0, value: "Fès"), Cell(field: 1, value: .text("R-\(id)")),
                        Cell(field: 2, value: "Amina"), Cell(field: 3, value: "0600000000"),
                    ]))
            _ = try await store.merge(ChangeBatch([group]), sender: nil, now: now)
        }
    }

    /// Waits until a backend waits on a lock (the push, on `_meta`, its reads made).
    static func waitForAWriterOnTheLock(_ database: CentralPostgres.PostgresDatabase) async throws {
        for _ in 0..<400 {
            let waiting = try await database.withConnection { connection in
                var count = 0
                for try await waiting in try await connection.query(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
                    logger: quietLogger
                ).decode(Int.self) {
                    count = waiting
                }
                return count
            }
            if waiting > 0 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("the push never waited for the feed's lock")
    }

    static func family(_ id: String, _ field: String, _ value: Value, at millis: UInt64, by node: NodeID) -> ChangeBatch
    {
        var group = CollectionChanges(name: "families", fields: [field])
        group.records.append(
            RecordChange(
                id: id, stamp: Stamp(hlc: HLCTimestamp(millis: t0 + millis, counter: 0), node: node),
                cells: [Cell(field: 0, value: value)]))
        return ChangeBatch([group])
    }

    /// A family's city and phone, as stored.
    static func family(_ id: String, _ database: CentralPostgres.PostgresDatabase) async throws -> [String] {
        try await database.withConnection { connection in
            var found: [String] = []
            for try await (city, phone) in try await connection.query(
                "SELECT city, phone FROM families WHERE id = \(id)", logger: quietLogger
            ).decode((String, String).self) {
                found = [city, phone]
            }
            return found
        }
    }
}

import CentralPostgres
import FieldDomain
import Foundation
import PostgresNIO
import SyncCore
import Testing

/// The facts an instance keeps for pulls, and the stretches of the feed it has read (decision record 0022):
/// a page served from them is the page read whole, whatever the filter; a fact written again at a new
/// sequence is not sent from its old one; a database restored from a dump is read again; the cache stays
/// within its bound.
@Suite("Facts kept for pulls", .postgresCluster)
struct FactCacheTests {
    @Test func aPageServedFromKeptFactsIsThePageReadWhole() async throws {
        try await withTestDatabase { database in
            let store = try await PostgresStore(database, schema: .fieldSync)
            try await Self.write(store)
            let writer = NodeID(rawValue: 0x5000)!
            let filters = [
                FeedFilter.all, FeedFilter(scope: "Fès"), FeedFilter(scope: "Rabat"),
                FeedFilter(scope: "Fès", excludingOrigins: [writer]),
                FeedFilter(excludingSequences: SequenceRanges([10...40, 90...95])),
            ]
            for filter in filters {
                let cold = try await Self.drain(try await PostgresStore(database, schema: .fieldSync), filter)
                _ = try await Self.drain(store, filter)
                let kept = store.keptFacts
                let warm = try await Self.drain(store, filter)
                #expect(store.keptFacts == kept, "a second reading keeps nothing new: it was served from the cache")
                #expect(warm == cold)
                #expect(!cold.isEmpty)
            }
            #expect(store.keptFacts > 0)
        }
    }

    @Test func aFactWrittenAgainAtANewSequenceIsNotSentFromItsOldOne() async throws {
        try await withTestDatabase { database in
            let store = try await PostgresStore(database, schema: .fieldSync)
            try await Self.write(store)
            _ = try await Self.drain(store, .all)
            _ = try await Self.drain(store, FeedFilter(scope: "Fès"))
            // A fact read and kept is replaced by a lower stamp: central writes it at a new sequence.
            var replaced = PostgresFeedTests.deliveries(writer: 0, batch: 2, count: 1)
            replaced.collections[0].records[0].stamp = Stamp(
                hlc: HLCTimestamp(millis: 2_000, counter: 0), node: NodeID(rawValue: 0x5003)!)
            replaced.collections[0].records[0].cells[5].value = "replaced"
            _ = try await store.merge(replaced, sender: nil, now: PostgresFeedTests.now())
            for filter in [FeedFilter.all, FeedFilter(scope: "Fès")] {
                let fresh = try await Self.drain(try await PostgresStore(database, schema: .fieldSync), filter)
                let again = try await Self.drain(store, filter)
                #expect(again == fresh)
                let versions = again.flatMap(\.records).filter { $0.id == "W0-2-0" }
                #expect(versions.count == 1)
            }
        }
    }

    @Test func aFactMovedByAnotherWriterIsNotSentFromItsOldPlace() async throws {
        try await withTestDatabase { database in
            let store = try await PostgresStore(database, schema: .fieldSync)
            let other = try await PostgresStore(database, schema: .fieldSync)
            try await Self.write(store)
            let fes = FeedFilter(scope: "Fès")
            _ = try await Self.drain(store, fes)
            // Another instance replaces a fact the first one kept in its stretch.
            var replaced = PostgresFeedTests.deliveries(writer: 0, batch: 0, count: 1)
            replaced.collections[0].records[0].stamp = Stamp(
                hlc: HLCTimestamp(millis: 3_000, counter: 0), node: NodeID(rawValue: 0x5004)!)
            replaced.collections[0].records[0].cells[5].value = "elsewhere"
            _ = try await other.merge(replaced, sender: nil, now: PostgresFeedTests.now())
            #expect(
                try await Self.drain(store, fes)
                    == Self.drain(try await PostgresStore(database, schema: .fieldSync), fes))
            // A writer that does not know of the kept stretches (an older build during a rolling deploy, or
            // psql) moves another one to a new sequence.
            try await database.withConnection { connection in
                try await connection.query(
                    """
                    WITH m AS (UPDATE _meta SET seq = seq + 1 WHERE id = 1 RETURNING seq)
                    UPDATE deliveries SET "_seq" = (SELECT seq FROM m), "_hlc" = ARRAY[4000::bigint * 65536],
                    volunteer = 'by hand' WHERE id = 'W0-0-7'
                    """, logger: quietLogger)
            }
            let fresh = try await Self.drain(try await PostgresStore(database, schema: .fieldSync), fes)
            let again = try await Self.drain(store, fes)
            #expect(again == fresh)
            let ids = again.flatMap(\.records).map(\.id)
            #expect(ids.filter { $0 == "W0-0-0" }.count == 1 && ids.filter { $0 == "W0-0-7" }.count == 1)
        }
    }

    @Test func aRowThatIsNotTheOneAStretchNamesIsNeverSent() async throws {
        try await withTestDatabase { database in
            let store = try await PostgresStore(database, schema: .fieldSync)
            try await Self.write(store)
            let fes = FeedFilter(scope: "Fès")
            _ = try await Self.drain(store, fes)
            // Behind every check's back (the trigger off, the facts forgotten, as after a crash that lost
            // commits): a delivery of the Fès stretch now belongs to Rabat.
            try await execute(
                [
                    "ALTER TABLE deliveries DISABLE TRIGGER USER",
                    "UPDATE deliveries SET city = 'Rabat', \"_hlc\" = ARRAY[\"_hlc\"[1] + 1] WHERE id = 'W0-1-3'",
                    "ALTER TABLE deliveries ENABLE TRIGGER USER",
                ], on: database)
            store.forgetKeptFacts()
            let again = try await Self.drain(store, fes)
            #expect(again == (try await Self.drain(try await PostgresStore(database, schema: .fieldSync), fes)))
            #expect(!again.flatMap(\.records).contains { $0.id == "W0-1-3" })
        }
    }

    @Test func aDatabaseRestoredFromADumpIsReadAgain() async throws {
        try await withTestDatabase { database in
            let store = try await PostgresStore(database, schema: .fieldSync)
            try await Self.write(store)
            _ = try await Self.drain(store, .all)
            // As a dump restored over it would leave it: other facts at sequences the cache has seen (one with
            // a kept row's stamp but another id and values, one with its id but another stamp), in tables
            // made again.
            try await execute(
                [
                    "UPDATE deliveries SET id = id || '-restored', volunteer = 'other' WHERE \"_seq\" = 20",
                    "UPDATE deliveries SET \"_hlc\" = ARRAY[\"_hlc\"[1] + 1], volunteer = 'again' WHERE \"_seq\" = 30",
                    "CREATE TABLE _meta_restored AS SELECT * FROM _meta", "DROP TABLE _meta",
                    "ALTER TABLE _meta_restored RENAME TO _meta",
                ], on: database)
            let fresh = try await Self.drain(try await PostgresStore(database, schema: .fieldSync), .all)
            let again = try await Self.drain(store, .all)
            #expect(again == fresh)
            let volunteers = fresh.flatMap(\.records).compactMap { $0.cells.first { $0.field == 6 }?.value }
            #expect(volunteers.contains(.text("other")) && volunteers.contains(.text("again")))
        }
    }

    @Test func theCacheStaysWithinItsBound() async throws {
        try await withTestDatabase { database in
            let store = try await PostgresStore(database, schema: .fieldSync)
            let bound = PostgresStore.maxKeptFacts
            var written = 0
            var batch = 0
            while written < bound + 2_000 {
                let count = min(5_000, bound + 2_000 - written)
                _ = try await store.merge(
                    PostgresFeedTests.deliveries(writer: 1, batch: batch, count: count), sender: nil,
                    now: PostgresFeedTests.now())
                written += count
                batch += 1
            }
            var cursor = FeedCursor.start
            var read = 0
            while true {
                let page = try await store.changes(since: cursor, limit: 5_000, filter: .all)
                read += page.batch.recordCount
                cursor = page.cursor
                #expect(store.keptFacts <= bound)
                if !page.hasMore { break }
            }
            #expect(read == written)
            #expect(store.keptFacts >= bound / 2)
            #expect(store.keptStretchRows > 0 && store.keptStretchRows <= PostgresStore.maxKeptStretchRows)
            // The newest are the ones kept: reading the last of them again keeps nothing new.
            let kept = store.keptFacts
            let last = try await store.changes(
                since: FeedCursor(cursor.position - 100), limit: 1_000, filter: .all)
            #expect(last.batch.recordCount == 100)
            #expect(store.keptFacts == kept)
        }
    }

    /// 300 deliveries of two writers in two cities, a voided one, and a fact replaced by a lower stamp (at a
    /// new sequence).
    static func write(_ store: PostgresStore) async throws {
        for writer in 0..<2 {
            for batch in 0..<3 {
                var changes = PostgresFeedTests.deliveries(writer: writer, batch: batch, count: 50)
                if writer == 1 {
                    for index in changes.collections[0].records.indices {
                        changes.collections[0].records[index].cells[0].value = "Rabat"
                    }
                }
                _ = try await store.merge(changes, sender: nil, now: PostgresFeedTests.now())
            }
        }
        var earlier = PostgresFeedTests.deliveries(writer: 0, batch: 1, count: 1)
        earlier.collections[0].records[0].stamp = Stamp(
            hlc: HLCTimestamp(millis: 1_000, counter: 0), node: NodeID(rawValue: 0x5002)!)
        earlier.collections[0].records[0].cells[5].value = "earlier"
        _ = try await store.merge(earlier, sender: nil, now: PostgresFeedTests.now())
    }

    /// Every page from the start under `filter`, its groups in order.
    static func drain(
        _ store: PostgresStore, _ filter: FeedFilter, limit: Int = 37
    ) async throws
        -> [CollectionChanges]
    {
        var groups: [CollectionChanges] = []
        var cursor = FeedCursor.start
        while true {
            let page = try await store.changes(since: cursor, limit: limit, filter: filter)
            groups += page.batch.collections
            cursor = page.cursor
            if !page.hasMore { return groups }
        }
    }
}

import CentralPostgres
import FieldDomain
import Foundation
import PostgresNIO
import SyncCore
import Testing

/// Ids and scopes compare by their bytes (`COLLATE "C"`, decision record 0024), whatever the database's
/// collation (the tests' databases are ICU fr-FR, as an operator's may be).
@Suite("PostgreSQL: keys compared by their bytes", .postgresCluster)
struct ByteKeysTests {
    static let keys = ["deliveries.city", "deliveries.id", "families.city", "families.id"]

    /// A new central's keys are made so; a central made before (its keys in the database's collation) is
    /// brought to them when it is opened again, its rows kept. Its ids then sort as SQLite sorts them.
    @Test func keysCompareByBytesInANewCentralAndInOneMadeBefore() async throws {
        try await withTestDatabase { database in
            _ = try await PostgresStore(database, schema: .fieldSync)
            #expect(try await Self.collations(database) == Array(repeating: "C", count: Self.keys.count))
            try await execute(
                Self.keys.map { key in
                    let (table, column) = (key.split(separator: ".")[0], key.split(separator: ".")[1])
                    return "ALTER TABLE \(table) ALTER COLUMN \(column) TYPE text COLLATE \"default\""
                } + [
                    """
                    INSERT INTO deliveries (id, city, family, item, quantity, campaign, delivered_at, volunteer,
                        "_seq", "_hlc", "_node")
                    SELECT id, 'Fès', 'F1', 'food', 1, 'c1', 1, 'v1', n, ARRAY[1::bigint], ARRAY[7::bigint]
                    FROM unnest(ARRAY['é1', 'e2', 'z3']) WITH ORDINALITY AS x(id, n)
                    """,
                    "ANALYZE deliveries",
                ], on: database)
            #expect(try await Self.collations(database) == Array(repeating: "default", count: Self.keys.count))
            #expect(try await Self.ids(database) == ["é1", "e2", "z3"])
            _ = try await PostgresStore(database, schema: .fieldSync)
            #expect(try await Self.collations(database) == Array(repeating: "C", count: Self.keys.count))
            #expect(try await Self.ids(database) == ["e2", "z3", "é1"])
            // The statistics the change of collation dropped are made again (the feed's plans need them).
            #expect(try await Self.single(database, Self.statistics) == 2)
            // Opened again, nothing is rebuilt: the key's index is the same file.
            let index = try await Self.single(database, Self.keyIndexFile)
            _ = try await PostgresStore(database, schema: .fieldSync)
            #expect(try await Self.single(database, Self.keyIndexFile) == index)
        }
    }

    /// An operator's view on a key forbids changing its collation: the central opens all the same, the
    /// key in the database's collation, the others brought to bytes.
    @Test func aViewOnAKeyLeavesItAsItIsAndTheCentralOpens() async throws {
        try await withTestDatabase { database in
            _ = try await PostgresStore(database, schema: .fieldSync)
            try await execute(
                [
                    "ALTER TABLE deliveries ALTER COLUMN city TYPE text COLLATE \"default\"",
                    "ALTER TABLE families ALTER COLUMN id TYPE text COLLATE \"default\"",
                    "CREATE VIEW deliveries_per_city AS SELECT city, count(*) FROM deliveries GROUP BY city",
                ], on: database)
            let store = try await PostgresStore(database, schema: .fieldSync)
            #expect(try await Self.collations(database) == ["default", "C", "C", "C"])
            #expect(try await store.head() == .start)
        }
    }

    static let statistics =
        "SELECT count(*) FROM pg_stats WHERE tablename = 'deliveries' AND attname IN ('id', 'city')"
    static let keyIndexFile = "SELECT relfilenode::bigint FROM pg_class WHERE relname = 'deliveries_pkey'"

    /// The one number `sql` selects.
    static func single(_ database: CentralPostgres.PostgresDatabase, _ sql: String) async throws -> Int64 {
        try await database.withConnection { connection in
            for try await value in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: quietLogger)
                .decode(Int64.self)
            {
                return value
            }
            return -1
        }
    }

    /// The collation of each of ``keys``, in their order.
    static func collations(_ database: CentralPostgres.PostgresDatabase) async throws -> [String] {
        try await database.withConnection { connection in
            var found: [String: String] = [:]
            let rows = try await connection.query(
                """
                SELECT r.relname || '.' || a.attname, c.collname FROM pg_attribute a
                JOIN pg_class r ON r.oid = a.attrelid JOIN pg_collation c ON c.oid = a.attcollation
                WHERE r.relname IN ('deliveries', 'families') AND a.attname IN ('id', 'city')
                """, logger: quietLogger)
            for try await (key, collation) in rows.decode((String, String).self) { found[key] = collation }
            return keys.map { found[$0] ?? "?" }
        }
    }

    /// The deliveries' ids as `ORDER BY id` sorts them.
    static func ids(_ database: CentralPostgres.PostgresDatabase) async throws -> [String] {
        try await database.withConnection { connection in
            var ids: [String] = []
            let rows = try await connection.query("SELECT id FROM deliveries ORDER BY id", logger: quietLogger)
            for try await id in rows.decode(String.self) { ids.append(id) }
            return ids
        }
    }
}

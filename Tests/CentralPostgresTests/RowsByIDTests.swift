import CentralPostgres
import FieldDomain
import Foundation
import PostgresNIO
import SyncCore
import Testing

/// A merge reads the rows a page names by their ids. PostgreSQL plans `id = ANY(…)` of a thousand ids as
/// a read of the whole table once the table is a few thousand rows (without statistics, as after a
/// bulk import, and with them): every page then costs as much as the table.
@Suite("PostgreSQL: rows read by id", .postgresCluster)
struct RowsByIDTests {
    /// 20,000 deliveries never analysed, a page of 1,001 ids (500 present, 500 absent, one named twice, as
    /// a hostile batch may): each is looked up through the key, and the rows read are the present ones.
    @Test func aPageOfIdsIsLookedUpThroughTheKey() async throws {
        try await withTestDatabase { database in
            _ = try await PostgresStore(database, schema: .fieldSync)
            let layout = PostgresLayout(Schema.fieldSync.collections.first { $0.name == "deliveries" }!)
            try await database.withConnection { connection in
                try await connection.query(
                    """
                    INSERT INTO deliveries (id, city, family, item, quantity, campaign, delivered_at, volunteer,
                        "_seq", "_hlc", "_node")
                    SELECT 'D' || g, 'Fès', 'F' || (g % 100), 'food', 1, 'c1', g, 'v1', g, ARRAY[g::bigint],
                        ARRAY[7::bigint]
                    FROM generate_series(1, 20000) AS g
                    """, logger: quietLogger)
                let ids = (1...500).map { "D\($0 * 37)" } + (1...500).map { "X\($0)" } + ["D37"]
                var binds = PostgresBindings()
                binds.append(ids)
                var plan = ""
                for try await row in try await connection.query(
                    PostgresQuery(unsafeSQL: "EXPLAIN " + PostgresStore.rowsByIDSQL(layout), binds: binds),
                    logger: quietLogger)
                {
                    plan += try row.decode(String.self) + "\n"
                }
                #expect(!plan.contains("Seq Scan on deliveries"), "\(plan)")
                let rows = try await PostgresStore.readRows(connection, layout, ids: ids, logger: quietLogger)
                #expect(Set(rows.keys) == Set((1...500).map { "D\($0 * 37)" }))
                #expect(rows["D74"]?.values[layout.registers.firstIndex(of: "delivered_at")!] == .integer(74))
            }
        }
    }
}

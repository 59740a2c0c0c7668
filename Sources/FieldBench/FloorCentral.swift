import CentralPostgres
import PostgresNIO
import SyncCore

/// R11's floor: the rows each page's merge stored (values, stamps, sequences, unknown fields), upserted again
/// as they are into tables of the merge's own shape, indexes and triggers (`floor_families`,
/// `floor_deliveries`), one statement per table as the merge writes them. That is PostgreSQL's own work for
/// what central keeps, without the merge's: no read, no decision, no lock, no history. The merge cannot take
/// less, so R11 cannot go below floor / baseline.
struct FloorCentral {
    /// Central's layouts, and the floor's, by collection name.
    private let central: [String: PostgresLayout]
    private let floor: [String: PostgresLayout]

    init(schema: Schema) {
        var central: [String: PostgresLayout] = [:]
        var floor: [String: PostgresLayout] = [:]
        for collection in schema.collections where ["families", "deliveries"].contains(collection.name) {
            central[collection.name] = PostgresLayout(collection)
            floor[collection.name] = PostgresLayout(
                CollectionSchema(
                    "floor_" + collection.name, kind: collection.kind, scope: collection.scopeField,
                    fields: collection.fields))
        }
        self.central = central
        self.floor = floor
    }

    func create(_ database: CentralPostgres.PostgresDatabase) async throws {
        try await database.withConnection { connection in
            for layout in floor.values {
                for statement in layout.createSQL {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: database.logger)
                }
            }
        }
    }

    /// The rows central stores for the records of `page`, per collection, in id order (read untimed).
    func storedRows(
        of page: ChangeBatch, in database: CentralPostgres.PostgresDatabase
    ) async throws -> [(collection: String, rows: [(id: String, row: MergedRow)])] {
        try await database.withConnection { connection in
            var result: [(collection: String, rows: [(id: String, row: MergedRow)])] = []
            for group in page.collections {
                guard let layout = central[group.name] else { continue }
                let ids = Set(group.records.map(\.id)).sorted()
                let rows = try await PostgresStore.readRows(connection, layout, ids: ids, logger: database.logger)
                result.append((group.name, ids.map { ($0, rows[$0]!) }))
            }
            return result
        }
    }

    /// One transaction: each collection's rows in one upsert of the merge's own statement.
    func upsert(
        _ database: CentralPostgres.PostgresDatabase,
        _ stored: [(collection: String, rows: [(id: String, row: MergedRow)])]
    ) async throws {
        try await database.withTransaction { connection in
            for (collection, rows) in stored where !rows.isEmpty {
                let layout = floor[collection]!
                var binds = PostgresBindings()
                try layout.appendUpsertBindings(rows, to: &binds)
                try await connection.query(
                    PostgresQuery(unsafeSQL: layout.upsertSQL(), binds: binds), logger: database.logger)
            }
        }
    }
}

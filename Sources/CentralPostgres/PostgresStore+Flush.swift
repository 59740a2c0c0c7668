import Logging
import PostgresNIO
import SyncCore

/// What a merge writes, in one statement under the feed's lock: every write transaction holds that lock
/// until it commits, so each round trip it makes while holding it is a round trip every other writer waits
/// for (decision record 0015).
extension PostgresStore {
    /// Writes the session's changed rows (one upsert per table), its displaced values (new ones counted: the
    /// conflicts), its departures, the clock and the head into `_meta`, and the client's echo (`echo`: its
    /// peer key and the head before the session), in one statement.
    ///
    /// With `check` (another writer committed between the merge's reads and the lock), the statement first
    /// looks whether a row the merge read has changed since: then it writes nothing and gives nil, and the
    /// merge reads again.
    static func flush(
        _ session: PostgresWriteSession, echo: (peer: String, after: Int64)?, check: ReadCheck?,
        connection: PostgresConnection, logger: Logger
    ) async throws -> Int? {
        var binds = PostgresBindings()
        var parts = ["g AS (SELECT \(check?.sql(session.layouts, binds: &binds) ?? "false") AS stale)"]
        let unchanged = "NOT (SELECT stale FROM g)"
        for (index, ids) in session.dirty.enumerated() where !ids.isEmpty {
            let layout = session.layouts[index]
            let first = binds.count + 1
            try layout.appendUpsertBindings(ids.sorted().map { ($0, session.rows[index][$0]!) }, to: &binds)
            parts.append("w\(index) AS (\(layout.upsertSQL(from: first, when: unchanged)))")
        }
        var conflicts = "0"
        if !session.history.isEmpty {
            binds.append(Self.historyJSON(session.history))
            parts.append(
                """
                h AS (INSERT INTO _history (collection, record_id, field, value, value_hlc, value_node, winner_hlc, \
                winner_node) SELECT collection, record_id, field, value, value_hlc, value_node, winner_hlc, winner_node \
                FROM jsonb_to_recordset($\(binds.count)::jsonb) AS x(collection text, record_id text, field text, \
                value jsonb, value_hlc bigint, value_node bigint, winner_hlc bigint, winner_node bigint) \
                WHERE \(unchanged) ON CONFLICT (collection, record_id, field, value_hlc, value_node) DO NOTHING \
                RETURNING 1)
                """)
            conflicts = "(SELECT count(*) FROM h)"
        }
        if !session.departures.isEmpty {
            let first = binds.count + 1
            binds.append(session.departures.map(\.sequence))
            binds.append(session.departures.map(\.collection))
            binds.append(session.departures.map(\.id))
            binds.append(session.departures.map(\.scope))
            parts.append(
                """
                d AS (INSERT INTO _departures (seq, collection, record_id, scope) SELECT * FROM \
                unnest($\(first)::bigint[], $\(first + 1)::text[], $\(first + 2)::text[], $\(first + 3)::text[]) \
                WHERE \(unchanged))
                """)
        }
        binds.append(session.clock.last.storage)
        binds.append(session.sequence)
        parts.append(
            "m AS (UPDATE _meta SET hlc = $\(binds.count - 1), seq = $\(binds.count) WHERE id = 1 AND \(unchanged))")
        if let echo, session.sequence > echo.after {
            // Consecutive pushes of a client extend one range.
            let first = binds.count + 1
            binds.append(echo.peer)
            binds.append(echo.after + 1)
            binds.append(session.sequence)
            let (peer, low, high) = ("$\(first)", "$\(first + 1)", "$\(first + 2)")
            parts.append(
                "e AS (UPDATE _echo SET hi = \(high) WHERE peer = \(peer) AND hi = \(low) - 1 AND \(unchanged) RETURNING 1)"
            )
            parts.append(
                """
                f AS (INSERT INTO _echo (peer, lo, hi) SELECT \(peer), \(low), \(high) \
                WHERE \(unchanged) AND NOT EXISTS (SELECT 1 FROM e) ON CONFLICT (peer, lo) DO UPDATE SET hi = EXCLUDED.hi)
                """)
        }
        let sql = "WITH " + parts.joined(separator: ", ") + " SELECT (SELECT stale FROM g), \(conflicts)"
        let rows = try await connection.run(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
        for try await (stale, count) in rows.decode((Bool, Int64).self) { return stale ? nil : Int(count) }
        throw SyncError(.storage, "PostgreSQL gave no answer to a merge's write.")
    }
}

/// What a merge read before it took the feed's lock, against the head it saw then: a row of it changed
/// since if its `_seq` is past that head (every change of a row takes a sequence, in commit order).
struct ReadCheck {
    /// The head the reads were made against.
    var head: Int64
    /// Per collection index: the ids read (found or not).
    var ids: [Int: Set<String>]
    /// Collections read whole, or by their first rows: any change in them counts.
    var collections: Set<Int>

    /// A boolean SQL expression, true when something read has changed, its parameters appended to `binds`.
    func sql(_ layouts: [PostgresLayout], binds: inout PostgresBindings) -> String {
        binds.append(head)
        let head = "$\(binds.count)"
        var tests: [String] = []
        for index in collections.sorted() {
            tests.append("EXISTS (SELECT 1 FROM \(layouts[index].table) WHERE \"_seq\" > \(head))")
        }
        for (index, ids) in ids.sorted(by: { $0.key < $1.key }) where !collections.contains(index) && !ids.isEmpty {
            binds.append(ids.sorted())
            tests.append(
                "EXISTS (SELECT 1 FROM \(layouts[index].table) WHERE id = ANY($\(binds.count)) AND \"_seq\" > \(head))")
        }
        return tests.isEmpty ? "false" : tests.joined(separator: " OR ")
    }
}

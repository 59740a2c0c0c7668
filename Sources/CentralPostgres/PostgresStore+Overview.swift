import Logging
import PostgresNIO
import SyncCore

/// A pull page's first statement on PostgreSQL (see ``PostgresStore/changes(since:limit:filter:)``).
extension PostgresStore {
    /// What a page needs to know first, in one statement: the feed's head, the client's echo ranges that
    /// reach past its cursor's base, each table's last sequence (a table with nothing past the cursor is not
    /// read), and the scope's last departure (none past the cursor: none to look up).
    struct Overview {
        var head: Int64
        var echo: [ClosedRange<Int64>]
        var last: [Int64]
        var lastDeparture: Int64
        /// `_fact_moves`, `_meta`'s table and the server's start: the kept stretches of fact tables hold
        /// while these are theirs (decision record 0022: a restored database has another table or start).
        var factMoves: [Int64]
    }

    static func overview(
        _ connection: PostgresConnection, statement: ReusedStatement, peer: String?, base: Int64, scope: String?,
        logger: Logger
    ) async throws -> Overview {
        var binds = PostgresBindings()
        binds.append(peer)
        binds.append(base)
        binds.append(scope)
        for row in try await connection.run(statement, binds: binds, logger: logger) {
            let (head, moves, lows, highs, last, departure) = try row.decode(
                (Int64, [Int64], [Int64], [Int64], [Int64], Int64).self)
            let echo = zip(lows, highs).map { $0...max($0, $1) }
            return Overview(head: head, echo: echo, last: last, lastDeparture: departure, factMoves: moves)
        }
        throw SyncError(.corruptReplica, "Central's _meta row cannot be read: run `sync-server migrate`.")
    }

    /// The overview's statement for these tables: `$1` the reader's peer key, `$2` its cursor's base, `$3`
    /// its scope (NULLs allowed, typed by their columns).
    static func overviewSQL(_ layouts: [PostgresLayout]) -> String {
        let tables = layouts.map { "(SELECT coalesce(max(\"_seq\"), 0) FROM \($0.table))" }.joined(separator: ", ")
        let echo = "FROM _echo WHERE peer = $1::text AND hi > $2::bigint"
        return """
            SELECT (SELECT seq FROM _meta WHERE id = 1), \
            ARRAY[(SELECT moves FROM _fact_moves WHERE id = 1), '_meta'::regclass::oid::bigint, \
            (extract(epoch FROM pg_postmaster_start_time()) * 1000000)::bigint], \
            (SELECT coalesce(array_agg(lo ORDER BY lo), '{}') \(echo)), \
            (SELECT coalesce(array_agg(hi ORDER BY lo), '{}') \(echo)), \
            ARRAY[\(tables)]::bigint[], \
            (SELECT coalesce(max(seq), 0) FROM _departures WHERE scope = $3::text)
            """
    }
}

import Logging
import PostgresNIO
import SyncCore

/// What a merge writes, in one statement under the feed's lock: every write transaction holds that lock
/// until it commits, so each round trip it makes while holding it is a round trip every other writer waits
/// for (decision record 0015).
extension PostgresStore {
    /// How a merge's write statement stands to the feed's lock.
    enum WriteLock {
        /// The transaction holds it already: the session's sequences and clock are the locked head's.
        case held
        /// The statement takes it (``PostgresMigration/lockInTheWrite``). The session was decided against
        /// the head `seen`, from reads made before the lock: the statement fails with
        /// ``PostgresMigration/readsChanged`` when `check` finds one of them changed since, and otherwise
        /// moves the session's new sequences (those past `seen`) past the head it found locked.
        case inStatement(seen: Int64, check: ReadCheck)
    }

    /// What a merge's write gave: the displaced values it kept that were new (the conflicts), and how far
    /// past the session's own its sequences were written (0 with the lock held).
    struct Written {
        var conflicts: Int
        var shift: Int64
    }

    /// Writes the session's changed rows (one upsert per table), its displaced values (new ones counted: the
    /// conflicts), its departures, the clock and the head into `_meta`, and the client's echo (`echo`: its
    /// peer key and the head before the session), in one statement; with `commit`, the transaction's
    /// `COMMIT` queued right behind it (``PostgresConnection/runThenCommit(_:logger:)``). `order`: per
    /// collection, the ids read for the session in id order (its written ids are among them).
    static func flush(
        _ session: PostgresWriteSession, order: [Int: [String]], echo: (peer: String, after: Int64)?,
        lock: WriteLock, commit: Bool, connection: PostgresConnection, logger: Logger
    ) async throws -> Written {
        var binds = PostgresBindings()
        var parts: [String] = []
        // What every part waits for (the lock taken), and each new sequence as written: `$1` is `seen`.
        var (gate, head, moved): (String, String, ((String) -> String)?) = ("true", "0", nil)
        if case .inStatement(let seen, let check) = lock {
            binds.append(seen)
            // The sequences of unknown fields live inside `_extra`'s JSON, which the statement does not
            // move: a session that wrote one is made again with the lock first if anyone wrote meanwhile.
            var (sql, ids) = check.lockingSQL(session.layouts)
            if Self.wroteExtras(session, after: seen) { (sql, ids) = ("SELECT true", []) }
            binds.append(sql)
            binds.append(ids)
            parts.append("lk AS MATERIALIZED (SELECT _lock_head($1, $2, $3) AS head)")
            (gate, head) = ("(SELECT head FROM lk) IS NOT NULL", "(SELECT head FROM lk)")
            moved = { "\($0) + CASE WHEN \($0) > $1 THEN (SELECT head FROM lk) - $1 ELSE 0 END" }
        }
        let shift = { (sequence: String) in moved?(sequence) ?? sequence }
        for (index, dirty) in session.dirty.enumerated() where !dirty.isEmpty {
            let layout = session.layouts[index]
            let first = binds.count + 1
            // In id order, as read (not sorted again: a tenth of the write's time).
            let rows = (order[index] ?? []).compactMap { id in dirty.contains(id) ? (id, session.rows[index][id]!) : nil
            }
            guard rows.count == dirty.count else {
                throw SyncError(.storage, "A merge wrote \(layout.name) records it had not read: nothing was written.")
            }
            try layout.appendUpsertBindings(rows, to: &binds)
            parts.append("w\(index) AS (\(layout.upsertSQL(from: first, when: gate, sequence: moved)))")
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
                WHERE \(gate) ON CONFLICT (collection, record_id, field, value_hlc, value_node) DO NOTHING \
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
                d AS (INSERT INTO _departures (seq, collection, record_id, scope) SELECT \(shift("s")), c, r, o FROM \
                unnest($\(first)::bigint[], $\(first + 1)::text[], $\(first + 2)::text[], $\(first + 3)::text[]) \
                AS u(s, c, r, o) WHERE \(gate))
                """)
        }
        binds.append(session.clock.last.storage)
        binds.append(session.sequence)
        // The clock never goes back: a writer that took the lock meanwhile may have moved it further. The
        // head moves by the sequences this session took (none: it stays where the lock found it).
        let newHead =
            moved == nil ? "$\(binds.count)::bigint" : "(SELECT head FROM lk) + ($\(binds.count)::bigint - $1)"
        parts.append(
            "m AS (UPDATE _meta SET hlc = GREATEST(hlc, $\(binds.count - 1)), seq = \(newHead) WHERE id = 1 AND \(gate))"
        )
        if let echo, session.sequence > echo.after {
            // Consecutive pushes of a client extend one range.
            let first = binds.count + 1
            binds.append(echo.peer)
            binds.append(echo.after + 1)
            binds.append(session.sequence)
            let (peer, low, high) = ("$\(first)", shift("$\(first + 1)::bigint"), shift("$\(first + 2)::bigint"))
            parts.append(
                "e AS (UPDATE _echo SET hi = \(high) WHERE peer = \(peer) AND hi = \(low) - 1 AND \(gate) RETURNING 1)")
            parts.append(
                """
                f AS (INSERT INTO _echo (peer, lo, hi) SELECT \(peer), \(low), \(high) \
                WHERE \(gate) AND NOT EXISTS (SELECT 1 FROM e) ON CONFLICT (peer, lo) DO UPDATE SET hi = EXCLUDED.hi)
                """)
        }
        let query = PostgresQuery(
            unsafeSQL: "WITH " + parts.joined(separator: ", ") + " SELECT \(head)::bigint, \(conflicts)", binds: binds)
        do {
            let rows =
                commit
                ? try await connection.runThenCommit(query, logger: logger)
                : try await Array(connection.run(query, logger: logger).collect())
            for row in rows {
                let (locked, count) = try row.decode((Int64, Int64).self)
                guard case .inStatement(let seen, _) = lock else { return Written(conflicts: Int(count), shift: 0) }
                return Written(conflicts: Int(count), shift: locked - seen)
            }
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == PostgresMigration.readsChanged {
            throw SyncError(
                .unavailable, "A row this merge read changed before it took the feed's lock: merge again.",
                underlying: ReadsChanged())
        }
        throw SyncError(.storage, "PostgreSQL gave no answer to a merge's write.")
    }
}

extension PostgresStore {
    /// Whether `session` wrote an unknown field of a profile at a sequence past `seen` (kept in `_extra`).
    static func wroteExtras(_ session: PostgresWriteSession, after seen: Int64) -> Bool {
        session.dirty.indices.contains { index in
            session.layouts[index].isProfile
                && session.dirty[index].contains { id in
                    session.rows[index][id]?.extra.values.contains { ($0.s ?? 0) > seen } ?? false
                }
        }
    }
}

/// A merge's write found that a row it read changed before it took the feed's lock: nothing was written,
/// the transaction is over, and the merge is made again with the lock taken first.
struct ReadsChanged: Error {}

/// What a merge read before it took the feed's lock, against the head it saw then: a row of it changed
/// since if its `_seq` is past that head (every change of a row takes a sequence, in commit order).
struct ReadCheck {
    /// Per collection index: the ids read (found or not; an id may be listed twice).
    var ids: [Int: [String]]
    /// Collections read whole, or by their first rows: any change in them counts.
    var collections: Set<Int>

    /// For `_lock_head` (``PostgresMigration/lockInTheWrite``): a `SELECT` of one boolean, true when
    /// something read has changed (`$1`: the head; `$2`: every id, each collection's a slice of it), and
    /// the ids; nil when nothing was read.
    func lockingSQL(_ layouts: [PostgresLayout]) -> (sql: String?, ids: [String]) {
        var tests: [String] = []
        var all: [String] = []
        for index in collections.sorted() {
            tests.append("EXISTS (SELECT 1 FROM \(layouts[index].table) WHERE \"_seq\" > $1)")
        }
        for (index, ids) in ids.sorted(by: { $0.key < $1.key }) where !collections.contains(index) && !ids.isEmpty {
            let slice = "[\(all.count + 1):\(all.count + ids.count)]"
            all.append(contentsOf: ids)
            tests.append(
                "EXISTS (SELECT 1 FROM \(layouts[index].table) WHERE id = ANY($2\(slice)) AND \"_seq\" > $1)")
        }
        return (tests.isEmpty ? nil : "SELECT " + tests.joined(separator: " OR "), all)
    }
}

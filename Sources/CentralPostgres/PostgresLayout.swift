package import PostgresNIO
package import SyncCore

/// The PostgreSQL table of one collection, and the SQL that reads and writes it.
///
/// Readable as it stands: each field is a column of its type (`SELECT * FROM deliveries` shows the
/// values). Profiles keep each register's stamp in three arrays beside the values, one entry per register
/// in register order (the fields, then `_deleted`): `_hlc`, `_node`, and `_rseq`, the sequence of the
/// register's last change (0: never set; a page sends only the fields changed since its cursor's base, as
/// on SQLite). Facts keep the row's stamp in `_hlc[1]` and `_node[1]`. Both keep `_seq`, the row's last
/// change (indexed: the feed reads by it), and `_extra`, the fields this version does not know (kept and
/// forwarded, as JSON in the SQLite store's format).
///
/// A class: a merge looks its layout up for every record, and a copy of a struct this size retained each of
/// its fields (a fifth of deciding a merge in `perf`).
package final class PostgresLayout: Sendable {
    package let collection: CollectionSchema
    /// Profiles: the fields then `_deleted`. Facts: the fields.
    package let registers: [String]
    /// Per register: whether its column holds text, an integer or a real.
    let kinds: [Kind]
    /// The table's name, quoted.
    package let table: String
    /// The register that holds the record's scope (a city), if the collection has one.
    package let scopeRegister: Int?

    package enum Kind: Sendable {
        case text, integer, real

        init(_ type: FieldType) {
            switch type {
            case .text, .reference: self = .text
            case .integer, .bool, .timestamp: self = .integer
            case .real: self = .real
            }
        }

        package var columnType: String {
            switch self {
            case .text: "text"
            case .integer: "bigint"
            case .real: "double precision"
            }
        }
    }

    package init(_ collection: CollectionSchema) {
        self.collection = collection
        let profile = collection.kind == .profile
        registers = collection.fields.map(\.name) + (profile ? ["_deleted"] : [])
        kinds = collection.fields.map { Kind($0.type) } + (profile ? [.integer] : [])
        table = quoted(collection.name)
        scopeRegister = collection.scopeField.flatMap { collection.fieldIndex[$0] }
        scopeColumn = collection.scopeField.map(quoted)
        let columns = (["id"] + registers + Self.bookkeeping(profile: profile)).map(quoted)
        selectList = (profile ? columns : columns.map { ["\"_hlc\"", "\"_node\""].contains($0) ? $0 + "[1]" : $0 })
            .joined(separator: ", ")
    }

    package var name: String { collection.name }
    /// Whether `name` is one of the registers (a field, or a profile's `_deleted`).
    package func isRegister(_ name: String) -> Bool { registers.contains(name) }
    package var isProfile: Bool { collection.kind == .profile }
    /// Whether a field names a record of another collection (checked on what clients send).
    package var hasReferences: Bool { collection.fields.contains { $0.references != nil } }

    /// The columns after the registers, in order.
    var bookkeeping: [String] { Self.bookkeeping(profile: isProfile) }

    static func bookkeeping(profile: Bool) -> [String] {
        profile ? ["_seq", "_hlc", "_node", "_rseq", "_extra"] : ["_seq", "_hlc", "_node", "_extra"]
    }

    /// The columns indexed by their text (the id; the scope, first in the scoped feed's index): compared by
    /// their bytes (`COLLATE "C"`), as SQLite compares them, whatever the database's collation. A
    /// language's collation (an operator's cluster in `fr_FR` or ICU) costs every index step a call to it:
    /// merges wrote 10% slower with it (decision record 0024).
    var byteKeys: [String] {
        ["id"] + (scopeRegister.flatMap { kinds[$0] == .text ? [registers[$0]] : [] } ?? [])
    }

    /// The type in the definition of a register's column.
    private func definition(_ register: String, _ kind: Kind) -> String {
        byteKeys.contains(register) ? "text COLLATE \"C\"" : kind.columnType
    }

    /// The table and its indexes (the feed's by sequence; a scoped feed's by scope then sequence), each
    /// statement safe to run again; the columns of fields added to the schema since; and the keys of a
    /// table made before they compared by bytes, made to (rebuilding their indexes, once).
    package var createSQL: [String] {
        var columns = ["id text COLLATE \"C\" PRIMARY KEY"]
        columns += zip(registers, kinds).map { "\(quoted($0)) \(definition($0, $1))" }
        columns += ["\"_seq\" bigint NOT NULL", "\"_hlc\" bigint[] NOT NULL", "\"_node\" bigint[] NOT NULL"]
        if isProfile { columns.append("\"_rseq\" bigint[] NOT NULL") }
        columns.append("\"_extra\" text")
        var statements = ["CREATE TABLE IF NOT EXISTS \(table) (\(columns.joined(separator: ", ")))"]
        statements += zip(registers, kinds).map {
            "ALTER TABLE \(table) ADD COLUMN IF NOT EXISTS \(quoted($0)) \(definition($0, $1))"
        }
        let relation = "'\(table.replacingOccurrences(of: "'", with: "''"))'::regclass"
        for key in byteKeys {
            // Its statistics go with the old collation: made again at once, or the feed's plans suffer until
            // autovacuum comes. An operator's view or policy on the column forbids the change: the column
            // then keeps its collation (every ORDER BY of ours says COLLATE "C"), with a warning in the log.
            let column = key.replacingOccurrences(of: "'", with: "''")
            statements.append(
                """
                DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = \(relation) \
                AND attname = '\(column)' AND atttypid = 'text'::regtype AND attcollation <> \
                (SELECT oid FROM pg_collation WHERE collname = 'C' AND collnamespace = 'pg_catalog'::regnamespace)) \
                THEN BEGIN ALTER TABLE \(table) ALTER COLUMN \(quoted(key)) TYPE text COLLATE "C"; \
                ANALYZE \(table) (\(quoted(key))); \
                EXCEPTION WHEN feature_not_supported THEN RAISE WARNING \
                'FieldSync: %.% keeps the database''s collation (slower to compare): %', \
                \(relation), '\(column)', SQLERRM; END; END IF; END $$
                """)
        }
        statements.append("CREATE INDEX IF NOT EXISTS \(quoted(name + "_by_seq")) ON \(table) (\"_seq\")")
        if let scope = collection.scopeField {
            statements.append(
                "CREATE INDEX IF NOT EXISTS \(quoted(name + "_by_scope")) ON \(table) (\(quoted(scope)), \"_seq\")")
        }
        if !isProfile {
            // Every change or removal of a fact row counts in `_fact_moves` (migration 5): made only when
            // missing, since making a trigger locks its table against every reader.
            for (trigger, event) in [
                (name + "_moved", "AFTER UPDATE OR DELETE ON \(table) FOR EACH ROW"),
                (name + "_emptied", "AFTER TRUNCATE ON \(table) FOR EACH STATEMENT"),
            ] {
                statements.append(
                    """
                    DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = \(relation) \
                    AND tgname = '\(trigger.replacingOccurrences(of: "'", with: "''"))') THEN \
                    CREATE TRIGGER \(quoted(trigger)) \(event) EXECUTE FUNCTION _fact_moved(); END IF; END $$
                    """)
            }
        }
        return statements
    }

    /// The columns a merge and the feed read, in ``decode(_:)``'s order (a fact's stamp as two numbers, not
    /// as the arrays it is kept in: cheaper to send and to decode, for every row a pull reads). Made once:
    /// every page and every merge names it.
    package let selectList: String
    /// The scope's column, quoted (nil: the collection has no scope).
    let scopeColumn: String?

    /// A row read with ``selectList``.
    package func decode(_ row: PostgresRow) throws -> (id: String, row: MergedRow) {
        var cells = row.makeIterator()
        func next() throws -> PostgresCell {
            guard let cell = cells.next() else {
                throw SyncError(.corruptReplica, "A row of \(name) has fewer columns than its table's.")
            }
            return cell
        }
        let id = try next().decode(String.self)
        var values: [Value] = []
        values.reserveCapacity(registers.count)
        for kind in kinds {
            let cell = try next()
            switch kind {
            case .text: values.append(try cell.decode(String?.self).map(Value.text) ?? .null)
            case .integer: values.append(try cell.decode(Int64?.self).map(Value.integer) ?? .null)
            case .real: values.append(try cell.decode(Double?.self).map(Value.real) ?? .null)
            }
        }
        let sequence = try next().decode(Int64.self)
        let hlc = isProfile ? try next().decode([Int64].self) : [try next().decode(Int64.self)]
        let node = isProfile ? try next().decode([Int64].self) : [try next().decode(Int64.self)]
        let registerSequence = isProfile ? try next().decode([Int64].self) : []
        let extra = try ExtraFields.decode(try next().decode(String?.self))
        guard
            !isProfile
                || (hlc.count == registers.count && node.count == hlc.count && registerSequence.count == hlc.count)
        else {
            throw SyncError(
                .corruptReplica, "Row \(id) of \(name) has stamps for another number of fields than the schema's.")
        }
        return (
            id,
            MergedRow(
                values: values, hlc: hlc, node: node, registerSequence: registerSequence, extra: extra,
                sequence: sequence)
        )
    }
}

/// A name as a PostgreSQL identifier.
func quoted(_ name: String) -> String {
    "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

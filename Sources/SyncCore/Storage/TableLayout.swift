import Foundation

/// The SQLite table derived from one collection, and the SQL that reads and writes it.
///
/// Profiles keep, beside each field `f`, its stamp (`f_hlc`, `f_node`) and the local sequence of its
/// last change (`f_seq`); the tombstone is one more register, `_deleted`. Facts keep one stamp for the
/// row (`_hlc`, `_node`). Both keep `_seq` (the row's last change, indexed for the feed) and `_extra`
/// (JSON of fields this version does not know, kept and forwarded).
struct TableLayout: Sendable {
    static let deletedRegister = "_deleted"

    let collection: CollectionSchema
    let collectionIndex: Int
    /// Profiles: the fields then `_deleted`. Facts: the fields.
    let registers: [String]

    init(_ collection: CollectionSchema, index: Int) {
        self.collection = collection
        self.collectionIndex = index
        var registers = collection.fields.map(\.name)
        if collection.kind == .profile { registers.append(Self.deletedRegister) }
        self.registers = registers
    }

    var name: String { collection.name }
    var table: String { quote(collection.name) }
    var isProfile: Bool { collection.kind == .profile }
    /// The position of the tombstone register (profiles only).
    var deletedIndex: Int { collection.fields.count }

    /// Register position by name, including `_deleted` for profiles.
    func registerIndex(_ name: String) -> Int? {
        if let index = collection.fieldIndex[name] { return index }
        return isProfile && name == Self.deletedRegister ? deletedIndex : nil
    }

    func type(ofRegister index: Int) -> FieldType {
        index < collection.fields.count ? collection.fields[index].type : .bool
    }

    /// Columns in declaration order with their SQL types.
    var columns: [(name: String, type: String)] {
        var columns: [(String, String)] = [("id", "TEXT NOT NULL PRIMARY KEY")]
        for (index, register) in registers.enumerated() {
            columns.append((register, type(ofRegister: index).sqlType))
            if isProfile {
                columns += [(register + "_hlc", "INTEGER"), (register + "_node", "INTEGER"), (register + "_seq", "INTEGER")]
            }
        }
        if !isProfile {
            columns += [("_hlc", "INTEGER NOT NULL"), ("_node", "INTEGER NOT NULL")]
        }
        columns += [("_seq", "INTEGER NOT NULL"), ("_extra", "TEXT")]
        return columns
    }

    var createTableSQL: String {
        "CREATE TABLE IF NOT EXISTS \(table) (" + columns.map { "\(quote($0.name)) \($0.type)" }.joined(separator: ", ") + ")"
    }

    var createIndexSQL: [String] {
        var statements = ["CREATE INDEX IF NOT EXISTS \(quote(name + "_by_seq")) ON \(table)(\"_seq\")"]
        if let scope = collection.scopeField {
            statements.append("CREATE INDEX IF NOT EXISTS \(quote(name + "_by_" + scope)) ON \(table)(\(quote(scope)))")
        }
        return statements
    }

    /// Keeps every value a winning write displaces in `_history`, with both stamps.
    var historyTriggerSQL: [String] {
        guard isProfile else { return [] }
        let trigger = quote(name + "_history")
        let inserts = registers.map { f in
            return """
                INSERT OR IGNORE INTO "_history"(collection, record_id, field, value, value_hlc, value_node, winner_hlc, winner_node)
                SELECT \(literal(name)), OLD."id", \(literal(f)), OLD.\(quote(f)), OLD.\(quote(f + "_hlc")), OLD.\(quote(f + "_node")),
                       NEW.\(quote(f + "_hlc")), NEW.\(quote(f + "_node"))
                WHERE OLD.\(quote(f + "_hlc")) IS NOT NULL
                  AND (OLD.\(quote(f + "_hlc")) IS NOT NEW.\(quote(f + "_hlc")) OR OLD.\(quote(f + "_node")) IS NOT NEW.\(quote(f + "_node")));
                """
        }
        return [
            "DROP TRIGGER IF EXISTS \(trigger)",
            "CREATE TRIGGER \(trigger) AFTER UPDATE ON \(table) BEGIN\n" + inserts.joined(separator: "\n") + "\nEND",
        ]
    }

    // MARK: Writes

    /// The LWW upsert of the given profile registers. Parameters: `?1` id, `?2` seq, then
    /// value, hlc, node for each register in order. Returns each register's stamp after the merge.
    func upsertSQL(registers indexes: [Int]) -> String {
        precondition(isProfile)
        var columns = ["\"id\"", "\"_seq\""]
        var values = ["?1", "?2"]
        var sets: [String] = []
        var wins: [String] = []
        var returning: [String] = []
        for (position, index) in indexes.enumerated() {
            let r = registers[index]
            let (v, h, n, s) = (quote(r), quote(r + "_hlc"), quote(r + "_node"), quote(r + "_seq"))
            let base = 3 + position * 3
            columns += [v, h, n, s]
            values += ["?\(base)", "?\(base + 1)", "?\(base + 2)", "?2"]
            let win = "(\(h) IS NULL OR (excluded.\(h), excluded.\(n)) > (\(h), \(n)))"
            wins.append(win)
            sets += [
                "\(v) = CASE WHEN \(win) THEN excluded.\(v) ELSE \(v) END",
                "\(h) = CASE WHEN \(win) THEN excluded.\(h) ELSE \(h) END",
                "\(n) = CASE WHEN \(win) THEN excluded.\(n) ELSE \(n) END",
                "\(s) = CASE WHEN \(win) THEN excluded.\(s) ELSE \(s) END",
            ]
            returning += [h, n]
        }
        guard !indexes.isEmpty else {
            return "INSERT INTO \(table) (\"id\", \"_seq\") VALUES (?1, ?2) ON CONFLICT(\"id\") DO NOTHING"
        }
        sets.append("\"_seq\" = CASE WHEN \(wins.joined(separator: " OR ")) THEN excluded.\"_seq\" ELSE \"_seq\" END")
        return "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES (\(values.joined(separator: ", ")))"
            + " ON CONFLICT(\"id\") DO UPDATE SET \(sets.joined(separator: ", "))"
            + " RETURNING \(returning.joined(separator: ", "))"
    }

    /// Inserts a fact. Parameters: `?1` id, the fields in order, then hlc, node, seq, extra.
    /// `ignoringDuplicates`: set union for remote facts; a local insert of an existing id fails instead.
    func insertFactSQL(ignoringDuplicates: Bool) -> String {
        precondition(!isProfile)
        let names = ["id"] + registers + ["_hlc", "_node", "_seq", "_extra"]
        let placeholders = (1...names.count).map { "?\($0)" }
        return "INSERT INTO \(table) (\(names.map(quote).joined(separator: ", "))) VALUES (\(placeholders.joined(separator: ", ")))"
            + (ignoringDuplicates ? " ON CONFLICT(\"id\") DO NOTHING" : "")
    }

    // MARK: Reads

    /// The feed query. Columns: id, _seq, _extra, then for profiles value, hlc, node, seq of each
    /// register, for facts hlc, node and the field values. Parameters: cursor, limit, [scope].
    func feedSQL(scoped: Bool) -> String {
        var columns = ["\"id\"", "\"_seq\"", "\"_extra\""]
        if isProfile {
            for r in registers { columns += [quote(r), quote(r + "_hlc"), quote(r + "_node"), quote(r + "_seq")] }
        } else {
            columns += ["\"_hlc\"", "\"_node\""] + registers.map(quote)
        }
        var sql = "SELECT \(columns.joined(separator: ", ")) FROM \(table) WHERE \"_seq\" > ?1"
        if scoped, let scope = collection.scopeField { sql += " AND \(quote(scope)) = ?3" }
        return sql + " ORDER BY \"_seq\" LIMIT ?2"
    }
}

/// Quotes an SQL identifier.
func quote(_ identifier: String) -> String {
    "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

/// Quotes an SQL string literal.
func literal(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
}

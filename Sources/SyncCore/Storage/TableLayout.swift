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
    /// Bit `r` set for each required field.
    let requiredMask: UInt64

    init(_ collection: CollectionSchema, index: Int) {
        self.collection = collection
        self.collectionIndex = index
        var registers = collection.fields.map(\.name)
        if collection.kind == .profile { registers.append(Self.deletedRegister) }
        self.registers = registers
        self.requiredMask = collection.fields.enumerated().reduce(0) {
            $0 | ($1.element.required ? 1 << UInt64($1.offset) : 0)
        }
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
        // Facts are never updated, so their change sequence is their rowid: the feed reads the table in
        // order and no separate index is kept. Profiles are keyed by id (WITHOUT ROWID: one B-tree
        // descent per lookup) with an index on their last change.
        var columns: [(String, String)] = [("id", isProfile ? "TEXT NOT NULL PRIMARY KEY" : "TEXT NOT NULL UNIQUE")]
        for (index, register) in registers.enumerated() {
            columns.append((register, type(ofRegister: index).sqlType))
            if isProfile {
                columns += [
                    (register + "_hlc", "INTEGER"), (register + "_node", "INTEGER"), (register + "_seq", "INTEGER"),
                ]
            }
        }
        if !isProfile {
            columns += [("_hlc", "INTEGER"), ("_node", "INTEGER")]
        }
        // No NOT NULL on what merges write (the engine always sets them): a constraint that may fail makes
        // SQLite open a statement journal for every write, which costs more than the write.
        columns += [("_seq", isProfile ? "INTEGER" : "INTEGER PRIMARY KEY"), ("_extra", "TEXT")]
        return columns
    }

    var createTableSQL: String {
        "CREATE TABLE IF NOT EXISTS \(table) (" + columns.map { "\(quote($0.name)) \($0.type)" }.joined(separator: ", ")
            + ")"
            + (isProfile ? " WITHOUT ROWID" : "")
    }

    var createIndexSQL: [String] {
        isProfile ? ["CREATE INDEX IF NOT EXISTS \(quote(name + "_by_seq")) ON \(table)(\"_seq\")"] : []
    }

    /// The registers of a profile row, for the merge decision: value, hlc, node of register `r` at
    /// columns `3r`, `3r + 1`, `3r + 2`. Parameter: `?1` id.
    var currentSQL: String {
        let columns = registers.flatMap { [quote($0), quote($0 + "_hlc"), quote($0 + "_node")] }
        return "SELECT \(columns.joined(separator: ", ")) FROM \(table) WHERE \"id\" = ?1"
    }

    /// Inserts a new profile row. Parameters: `?1` id, `?2` seq, then value, hlc, node of register `r` at
    /// `3 + 3r`, `4 + 3r`, `5 + 3r`; registers left unbound stay NULL.
    var insertProfileSQL: String {
        precondition(isProfile)
        var columns = ["\"id\"", "\"_seq\""]
        var values = ["?1", "?2"]
        for (index, r) in registers.enumerated() {
            let base = 3 + index * 3
            columns += [quote(r), quote(r + "_hlc"), quote(r + "_node"), quote(r + "_seq")]
            values += ["?\(base)", "?\(base + 1)", "?\(base + 2)", "iif(?\(base + 1) IS NULL, NULL, ?2)"]
        }
        return "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES (\(values.joined(separator: ", ")))"
    }

    /// Writes the winning registers of an existing profile row (the merge is decided before, see
    /// ``WriteSession/mergeProfile``). Parameters: `?1` id, `?2` seq, then value, hlc, node of the i-th
    /// register of `registers` (ascending) at `3 + 3i`, `4 + 3i`, `5 + 3i`.
    func updateProfileSQL(registers indexes: [Int]) -> String {
        var sets = ["\"_seq\" = ?2"]
        for (position, index) in indexes.enumerated() {
            let r = registers[index]
            let base = 3 + position * 3
            sets += [
                "\(quote(r)) = ?\(base)", "\(quote(r + "_hlc")) = ?\(base + 1)", "\(quote(r + "_node")) = ?\(base + 2)",
                "\(quote(r + "_seq")) = ?2",
            ]
        }
        return "UPDATE \(table) SET \(sets.joined(separator: ", ")) WHERE \"id\" = ?1"
    }

    /// Creates an empty profile row if absent (before merging unknown fields into it).
    var ensureRowSQL: String {
        "INSERT INTO \(table) (\"id\", \"_seq\") VALUES (?1, ?2) ON CONFLICT(\"id\") DO NOTHING"
    }

    /// Inserts a fact. Parameters: `?1` id, the fields in order, then hlc, node, seq, extra.
    /// `ignoringDuplicates`: set union for remote facts; a local insert of an existing id fails instead.
    func insertFactSQL(ignoringDuplicates: Bool) -> String {
        precondition(!isProfile)
        let names = ["id"] + registers + ["_hlc", "_node", "_seq", "_extra"]
        let placeholders = (1...names.count).map { "?\($0)" }
        return
            "INSERT INTO \(table) (\(names.map(quote).joined(separator: ", "))) VALUES (\(placeholders.joined(separator: ", ")))"
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

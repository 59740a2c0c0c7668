import Foundation

/// The SQLite table derived from one collection, and the SQL that reads and writes it.
///
/// Each field is a column. Profiles keep the stamp of every register (`(hlc, node)` and the local
/// sequence of its last change) in one `_stamps` BLOB beside the values (see ``RegisterStamps``); the
/// tombstone is one more register, `_deleted`. Facts keep one stamp for the row (`_hlc`, `_node`). Both
/// keep `_seq` (the row's last change) and `_extra` (JSON of fields this version does not know, kept and
/// forwarded).
///
/// A class: merges pass it for every record, and a copy of the struct it was retained each of its
/// arrays and strings (5% of a push's merge).
final class TableLayout: Sendable {
    static let deletedRegister = CollectionSchema.deletedRegister

    let collection: CollectionSchema
    let collectionIndex: Int
    /// Profiles: the fields then `_deleted`. Facts: the fields.
    let registers: [String]
    /// Bit `r` set for each required field.
    let requiredMask: UInt64
    /// Profiles: each register's slot in `_stamps` (the position of its column in the table).
    let slots: [UInt8]
    /// Profiles: the register of each slot, or -1.
    let registerForSlot: [Int]
    /// ``feedSQL(scoped:)``, built once (the feed asks for it on every page).
    private let feedQueries: (plain: String, scoped: String)

    /// `columnPositions`: the position of each column of the table as it exists (empty before it does).
    init(_ collection: CollectionSchema, index: Int, columnPositions: [String: Int] = [:]) {
        self.collection = collection
        self.collectionIndex = index
        let registers = collection.registers
        self.registers = registers
        self.requiredMask = collection.requiredMask
        let slots = registers.map { UInt8(clamping: columnPositions[$0] ?? 255) }
        var registerForSlot = [Int](repeating: -1, count: 256)
        for (register, slot) in slots.enumerated() where slot != 255 { registerForSlot[Int(slot)] = register }
        self.slots = slots
        self.registerForSlot = registerForSlot
        let table = quote(collection.name)
        edgeRowidsSQL = "SELECT (SELECT min(rowid) FROM \(table)), (SELECT max(rowid) FROM \(table))"
        rowidProbeSQL = "SELECT rowid, \"_seq\" FROM \(table) WHERE rowid >= ?1 ORDER BY rowid LIMIT 1"
        feedQueries = (
            Self.makeFeedSQL(collection, registers: registers, scoped: false),
            Self.makeFeedSQL(collection, registers: registers, scoped: true)
        )
    }

    var name: String { collection.name }
    /// Whether a field names a record of another collection (checked on what clients send).
    var hasReferences: Bool { collection.fields.contains { $0.references != nil } }
    var table: String { quote(collection.name) }
    /// The smallest and largest rowid (two subqueries: SQLite answers a lone min() or max() from the
    /// B-tree's edge, not both at once). Built once: the feed runs it for every page.
    let edgeRowidsSQL: String
    /// The first row at or after a rowid, with its sequence (the feed's binary search).
    let rowidProbeSQL: String
    var isProfile: Bool { collection.kind == .profile }
    /// The position of the tombstone register (profiles only).
    var deletedIndex: Int { collection.fields.count }

    /// Register position by name, including `_deleted` for profiles.
    /// The register of the collection's scope field, if it has one.
    var scopeRegister: Int? { collection.scopeField.flatMap { registerIndex($0) } }

    func registerIndex(_ name: String) -> Int? { collection.registerIndex(name) }

    func type(ofRegister index: Int) -> FieldType {
        index < collection.fields.count ? collection.fields[index].type : .bool
    }

    /// Columns in declaration order with their SQL types.
    var columns: [(name: String, type: String)] {
        // Facts are never updated and are appended in sequence order, so their rowid follows their
        // sequence: the feed finds its start by a binary search on rowid and no index on `_seq` is kept.
        // Profiles are keyed by id with an index on their last change (a rowid table: measured ~8% faster
        // to update than WITHOUT ROWID).
        var columns: [(String, String)] = [("id", "TEXT NOT NULL PRIMARY KEY")]
        for (index, register) in registers.enumerated() {
            columns.append((register, type(ofRegister: index).sqlType))
        }
        if isProfile {
            columns.append(("_stamps", "BLOB"))
        } else {
            columns += [("_hlc", "INTEGER"), ("_node", "INTEGER")]
        }
        // No NOT NULL on what merges write (the engine always sets them): a constraint that may fail makes
        // SQLite open a statement journal for every write, which costs more than the write.
        columns += [("_seq", "INTEGER"), ("_extra", "TEXT")]
        return columns
    }

    var createTableSQL: String {
        "CREATE TABLE IF NOT EXISTS \(table) (" + columns.map { "\(quote($0.name)) \($0.type)" }.joined(separator: ", ")
            + ")"

    }

    var createIndexSQL: [String] {
        isProfile ? ["CREATE INDEX IF NOT EXISTS \(quote(name + "_by_seq")) ON \(table)(\"_seq\")"] : []
    }

    /// A profile row for the merge decision: the value of register `r` at column `r`, then `_stamps`.
    /// Parameter: `?1` id.
    var currentSQL: String {
        "SELECT \((registers + ["_stamps"]).map(quote).joined(separator: ", ")) FROM \(table) WHERE \"id\" = ?1"
    }

    /// Inserts a new profile row. Parameters: `?1` id, `?2` seq, `?3` stamps, the value of register `r` at
    /// `4 + r` (left unbound: NULL).
    var insertProfileSQL: String {
        let columns = ["\"id\"", "\"_seq\"", "\"_stamps\""] + registers.map(quote)
        let values = (1...columns.count).map { "?\($0)" }
        return "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES (\(values.joined(separator: ", ")))"
    }

    /// Writes the winning registers of an existing profile row (the merge is decided before, see
    /// ``WriteSession/mergeProfile``). Parameters: `?1` id, `?2` seq, `?3` stamps, the value of the i-th
    /// register of `registers` (ascending) at `4 + i`.
    func updateProfileSQL(registers indexes: [Int]) -> String {
        var sets = ["\"_seq\" = ?2", "\"_stamps\" = ?3"]
        for (position, index) in indexes.enumerated() {
            sets.append("\(quote(registers[index])) = ?\(4 + position)")
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

    /// The feed query. Columns: id, _seq, _extra, then for profiles `_stamps` and the values (register
    /// `r` at `4 + r`), for facts hlc, node and the values (`5 + r`). Parameters: cursor, limit, [scope].
    func feedSQL(scoped: Bool) -> String { scoped ? feedQueries.scoped : feedQueries.plain }

    private static func makeFeedSQL(_ collection: CollectionSchema, registers: [String], scoped: Bool) -> String {
        // Facts are appended in sequence order, so their rowid orders them too; `?1` is then the first
        // rowid to read (see ``Replica/firstFactRowid``).
        let isProfile = collection.kind == .profile
        var sql = selectSQL(collection, registers: registers)
        sql += isProfile ? " WHERE \"_seq\" > ?1" : " WHERE rowid >= ?1"
        if scoped, let scope = collection.scopeField { sql += " AND \(quote(scope)) = ?3" }
        return sql + (isProfile ? " ORDER BY \"_seq\" LIMIT ?2" : " ORDER BY rowid LIMIT ?2")
    }

    /// The columns of ``feedSQL``, without a condition.
    var selectSQL: String { Self.selectSQL(collection, registers: registers) }

    private static func selectSQL(_ collection: CollectionSchema, registers: [String]) -> String {
        var columns = ["\"id\"", "\"_seq\"", "\"_extra\""]
        if collection.kind == .profile {
            columns += ["\"_stamps\""] + registers.map(quote)
        } else {
            columns += ["\"_hlc\"", "\"_node\""] + registers.map(quote)
        }
        return "SELECT \(columns.joined(separator: ", ")) FROM \(quote(collection.name))"
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

extension TableLayout {
    /// Column of register `r`'s value in ``feedSQL``.
    func feedValueColumn(_ register: Int) -> Int32 {
        Int32((isProfile ? 4 : 5) + register)
    }

    /// Decodes the `_stamps` column of a statement.
    func decodeStamps(_ statement: SQLStatement, column: Int32) throws -> RegisterStamps {
        try statement.withBytes(column) { bytes in
            try RegisterStamps(decoding: bytes, registerForSlot: registerForSlot, count: registers.count)
        }
    }
}

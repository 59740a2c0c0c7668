/// The validation of a batch against a schema, before anything is written (pure, no I/O).
///
/// Resolves each group's collection and maps its field names to registers (or -1: a field this
/// schema does not know, kept in `_extra`). Throws on the first problem, naming the record and field,
/// so a batch with one bad change is refused whole.
struct BatchPlan {
    /// Per group: the layout's position.
    var layoutIndex: [Int] = []
    /// Per group: for each field name position, the register index or -1.
    var registerMap: [[Int]] = []

    static let maxIDLength = 64
    static let maxFieldNameLength = 64

    init(_ batch: ChangeBatch, layouts: [TableLayout], schema: Schema) throws(SyncError) {
        for group in batch.collections {
            guard let index = schema.index(of: group.name) else {
                throw SyncError(
                    .unknownCollection,
                    "Unknown collection '\(group.name)'. Known: \(schema.collections.map(\.name).joined(separator: ", "))."
                )
            }
            let layout = layouts[index]
            var map: [Int] = []
            var seen = Set<String>()
            for name in group.fields {
                guard !name.isEmpty, name.utf8.count <= Self.maxFieldNameLength,
                    !name.hasPrefix("_") || name == TableLayout.deletedRegister,
                    name != "id"
                else {
                    throw SyncError(.invalidBatch, "Collection '\(group.name)' lists an invalid field name '\(name)'.")
                }
                guard seen.insert(name).inserted else {
                    throw SyncError(.invalidBatch, "Collection '\(group.name)' lists field '\(name)' twice.")
                }
                map.append(layout.registerIndex(name) ?? -1)
            }
            for record in group.records {
                try Self.validate(record, group: group, layout: layout, map: map)
            }
            layoutIndex.append(index)
            registerMap.append(map)
        }
    }

    private static func validate(
        _ record: RecordChange, group: CollectionChanges, layout: TableLayout, map: [Int]
    )
        throws(SyncError)
    {
        var where_: String { "\(group.name) record '\(record.id.prefix(maxIDLength))'" }
        guard !record.id.isEmpty, record.id.utf8.count <= maxIDLength,
            record.id.utf8.allSatisfy({ $0 > 32 && $0 < 127 })
        else {
            throw SyncError(
                .invalidBatch,
                "Invalid record id in \(group.name): ids are 1 to \(maxIDLength) printable ASCII characters.")
        }
        guard layout.isProfile || record.cells.allSatisfy({ $0.stamp == nil || $0.stamp == record.stamp }) else {
            throw SyncError(.invalidBatch, "The \(where_) is a fact: its fields cannot carry their own stamps.")
        }
        var present: UInt64 = 0
        var extras = Set<Int>()
        for cell in record.cells {
            guard cell.field >= 0, cell.field < group.fields.count else {
                throw SyncError(
                    .invalidBatch,
                    "The \(where_) refers to field #\(cell.field), but the group lists \(group.fields.count) fields.")
            }
            let register = map[cell.field]
            if register < 0 {
                guard extras.insert(cell.field).inserted else {
                    throw SyncError(.invalidBatch, "The \(where_) sets field '\(group.fields[cell.field])' twice.")
                }
                continue
            }
            guard present & (1 << UInt64(register)) == 0 else {
                throw SyncError(.invalidBatch, "The \(where_) sets field '\(group.fields[cell.field])' twice.")
            }
            present |= 1 << UInt64(register)
            let type = layout.type(ofRegister: register)
            guard type.accepts(cell.value) else {
                throw SyncError(
                    .invalidValue,
                    "The \(where_) sets '\(group.fields[cell.field])' (\(type.rawValue)) to \(cell.value.kindDescription)."
                )
            }
            if layout.isProfile, register == layout.deletedIndex, cell.value != .integer(1) {
                throw SyncError(
                    .invalidValue, "The \(where_) sets '_deleted' to \(cell.value): a tombstone is always 1.")
            }
        }
        if !layout.isProfile {
            // Facts carry all their required fields, not null.
            var filled: UInt64 = 0
            for cell in record.cells where map[cell.field] >= 0 && !cell.value.isNull {
                filled |= 1 << UInt64(map[cell.field])
            }
            if filled & layout.requiredMask != layout.requiredMask {
                let missing = layout.collection.fields.enumerated().first {
                    filled & (1 << UInt64($0.offset)) == 0 && $0.element.required
                }
                throw SyncError(
                    .invalidBatch, "The \(where_) lacks its required field '\(missing?.element.name ?? "?")'.")
            }
        }
    }
}

extension Value {
    /// "the text \"abc\"", "the integer 5": for error messages.
    var kindDescription: String {
        switch self {
        case .null: "null"
        case .integer(let value): "the integer \(value)"
        case .real(let value): "the number \(value)"
        case .text(let value): "the text \"\(value.prefix(40))\""
        }
    }
}

/// The validation of a batch against a schema, before anything is written (pure, no I/O).
///
/// Resolves each group's collection and maps its field names to registers (or -1: a field this
/// schema does not know, kept in `_extra`). A malformed batch (a bad id, a field index out of range, a
/// field set twice) throws, naming the record and field: a conforming client never sends one. A record
/// whose values the schema does not allow, or that lies outside `scope`, is refused on its own
/// (``refused``): the rest of the batch goes on.
package struct BatchPlan {
    /// Per group: the collection's position in the schema.
    package var collectionIndex: [Int] = []
    /// Per group: for each field name position, the register index or -1.
    package var registerMap: [[Int]] = []
    /// The greatest stamp in the batch.
    package var newest: Stamp?
    /// The greatest stamp of the batch's sender (every stamp when the sender is not given): the stamps its
    /// own clock made, held to the drift bound. The others it relays were admitted where they entered.
    package var newestOwn: Stamp?
    /// Per group: the records refused, by index (empty for almost every batch).
    package var refused: [Set<Int>] = []
    /// Why, in batch order.
    package var refusals: [Refusal] = []

    static let maxIDLength = 64
    static let maxFieldNameLength = 64
    static let maxFieldsPerGroup = ChangeBatch.maxFieldsPerGroup
    /// Fields a record may carry that this schema does not know (a newer version's additions).
    static let maxUnknownFieldsPerRecord = 16
    /// Unknown field names a feed page lists per collection, so that a page stays within
    /// `maxFieldsPerGroup` (at most 63 registers + 64).
    static let maxUnknownFieldsPerGroup = FeedPage.maxUnknownFieldsPerGroup

    /// `scope`: the principal's, when it has one (a device's or hub's push): a record must carry it, and a
    /// collection without a scope field is the admin's alone.
    package init(
        _ batch: ChangeBatch, schema: Schema, sender: NodeID? = nil, scope: String? = nil
    ) throws(SyncError) {
        for group in batch.collections {
            guard let index = schema.index(of: group.name) else {
                throw SyncError(
                    .unknownCollection,
                    "Unknown collection '\(group.name)'. Known: \(schema.collections.map(\.name).joined(separator: ", "))."
                )
            }
            let collection = schema.collections[index]
            guard group.fields.count <= Self.maxFieldsPerGroup else {
                throw SyncError(
                    .invalidBatch,
                    "Collection '\(group.name)' lists \(group.fields.count) fields; at most \(Self.maxFieldsPerGroup).")
            }
            var map: [Int] = []
            var seen = Set<String>()
            for name in group.fields {
                guard !name.isEmpty, name.utf8.count <= Self.maxFieldNameLength,
                    name.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x7F }),
                    !name.hasPrefix("_") || name == CollectionSchema.deletedRegister,
                    name != "id"
                else {
                    throw SyncError(.invalidBatch, "Collection '\(group.name)' lists an invalid field name '\(name)'.")
                }
                guard seen.insert(name).inserted else {
                    throw SyncError(.invalidBatch, "Collection '\(group.name)' lists field '\(name)' twice.")
                }
                map.append(collection.registerIndex(name) ?? -1)
            }
            var refused = Set<Int>()
            let scopeCell = collection.scopeField.flatMap { group.fields.firstIndex(of: $0) }
            for (position, record) in group.records.enumerated() {
                var refusal = try Self.validate(record, group: group, collection: collection, map: map, newest: &newest)
                if refusal == nil, let scope {
                    refusal = Self.scopeRefusal(
                        record, group: group, collection: collection, scopeCell: scopeCell, scope: scope)
                }
                if let refusal {
                    refused.insert(position)
                    refusals.append(refusal)
                }
            }
            collectionIndex.append(index)
            registerMap.append(map)
            self.refused.append(refused)
        }
        // A device's push is all its own: its newest stamp is the sender's. Only a relay needs a pass.
        newestOwn = newest
        if let sender, let top = newest, top.node != sender { newestOwn = Self.newest(of: sender, in: batch) }
    }

    /// The greatest stamp `node` made in `batch`.
    private static func newest(of node: NodeID, in batch: ChangeBatch) -> Stamp? {
        var newest: Stamp?
        for group in batch.collections {
            for record in group.records {
                if record.stamp.node == node, newest.map({ record.stamp > $0 }) ?? true { newest = record.stamp }
                for cell in record.cells {
                    if let stamp = cell.stamp, stamp.node == node, newest.map({ stamp > $0 }) ?? true { newest = stamp }
                }
            }
        }
        return newest
    }

    /// Record ids: 1 to 64 printable ASCII characters, no spaces.
    static func isValidID(_ id: String) -> Bool { RecordRef.isValidID(id) }

    /// Why a record pushed by a principal of `scope` lies outside it, or nil when it does not: it sets its
    /// scope field to another value, or its collection has none (the admin's). A stored record's scope is
    /// checked where the merge reads it.
    private static func scopeRefusal(
        _ record: RecordChange, group: CollectionChanges, collection: CollectionSchema, scopeCell: Int?, scope: String
    ) -> Refusal? {
        guard let scopeField = collection.scopeField else {
            return Refusal(
                collection: group.name, id: record.id, code: .outOfScope,
                detail: "'\(group.name)' is written by the admin only; a \(scope) token cannot change it.")
        }
        guard let scopeCell else { return nil }
        for cell in record.cells where cell.field == scopeCell && cell.value != .text(scope) {
            return Refusal(
                collection: group.name, id: record.id, code: .outOfScope, field: scopeField,
                detail: "Record \(record.id) of '\(group.name)' sets \(scopeField) to \(cell.value.kindDescription), "
                    + "outside this token's scope ('\(scope)').")
        }
        return nil
    }

    /// Checks one record in a single pass over its cells, and folds its stamps into `newest`. Throws for a
    /// malformed record; returns the refusal of a record whose values the schema does not allow.
    private static func validate(
        _ record: RecordChange, group: CollectionChanges, collection: CollectionSchema, map: [Int], newest: inout Stamp?
    ) throws(SyncError) -> Refusal? {
        var where_: String { "\(group.name) record '\(record.id.prefix(maxIDLength))'" }
        func refuse(_ field: String?, _ detail: String) -> Refusal {
            Refusal(collection: group.name, id: record.id, code: .invalidValue, field: field, detail: detail)
        }
        let idBytes = record.id.utf8
        // Over the contiguous bytes (for every record of every batch): the view's own iteration costs more.
        let printable =
            idBytes.withContiguousStorageIfAvailable { $0.allSatisfy { $0 > 32 && $0 < 127 } }
            ?? idBytes.allSatisfy { $0 > 32 && $0 < 127 }
        guard !idBytes.isEmpty, idBytes.count <= maxIDLength, printable else {
            throw SyncError(
                .invalidBatch,
                "Invalid record id in \(group.name): ids are 1 to \(maxIDLength) printable ASCII characters.")
        }
        if newest.map({ record.stamp > $0 }) ?? true { newest = record.stamp }
        var present: UInt64 = 0
        var filled: UInt64 = 0
        var extrasLow: UInt64 = 0
        var extrasHigh: UInt64 = 0
        var refusal: Refusal?
        let fieldCount = group.fields.count
        try record.cells.withUnsafeBufferPointer { cells throws(SyncError) in
            for index in cells.indices {
                let field = cells[index].field
                guard field >= 0, field < fieldCount else {
                    throw SyncError(
                        .invalidBatch,
                        "The \(where_) refers to field #\(field), but the group lists \(fieldCount) fields.")
                }
                if let stamp = cells[index].stamp {
                    guard collection.isProfile || stamp == record.stamp else {
                        throw SyncError(
                            .invalidBatch, "The \(where_) is a fact: its fields cannot carry their own stamps.")
                    }
                    if newest.map({ stamp > $0 }) ?? true { newest = stamp }
                }
                if case .real(let number) = cells[index].value, !number.isFinite, refusal == nil {
                    refusal = refuse(
                        group.fields[field],
                        "The \(where_) sets '\(group.fields[field])' to \(number): numbers must be finite.")
                }
                let register = map[field]
                if register < 0, refusal == nil, case .text(let text) = cells[index].value, text.holdsNUL {
                    refusal = refuse(
                        group.fields[field], "The \(where_) sets '\(group.fields[field])' to \(Field.nulProblem).")
                }
                if register < 0 {
                    // A field this schema does not know (a group lists at most 128 fields).
                    let bit: UInt64 = 1 << UInt64(field & 63)
                    let seen = field < 64 ? extrasLow & bit : extrasHigh & bit
                    guard seen == 0 else {
                        throw SyncError(.invalidBatch, "The \(where_) sets field '\(group.fields[field])' twice.")
                    }
                    if field < 64 { extrasLow |= bit } else { extrasHigh |= bit }
                    guard (extrasLow.nonzeroBitCount + extrasHigh.nonzeroBitCount) <= Self.maxUnknownFieldsPerRecord
                    else {
                        throw SyncError(
                            .invalidBatch,
                            "The \(where_) carries more than \(Self.maxUnknownFieldsPerRecord) fields this version does not know."
                        )
                    }
                    continue
                }
                let bit: UInt64 = 1 << UInt64(register)
                guard present & bit == 0 else {
                    throw SyncError(.invalidBatch, "The \(where_) sets field '\(group.fields[field])' twice.")
                }
                present |= bit
                if register < collection.fields.count, refusal == nil,
                    let problem = collection.fields[register].problem(with: cells[index].value)
                {
                    refusal = refuse(group.fields[field], "The \(where_) sets '\(group.fields[field])' to \(problem).")
                } else if register == collection.deletedIndex, collection.isProfile, cells[index].value != .integer(1),
                    refusal == nil
                {
                    refusal = refuse(
                        CollectionSchema.deletedRegister,
                        "The \(where_) sets '_deleted' to \(cells[index].value.kindDescription): a tombstone is always 1."
                    )
                }
                if case .null = cells[index].value { continue }
                filled |= bit
            }
        }
        if let refusal { return refusal }
        // A fact is whole at once; a profile's required fields are checked when it is new (by the merge),
        // and none may be emptied.
        let missing =
            collection.isProfile
            ? present & collection.requiredMask & ~filled
            : collection.requiredMask & ~filled
        if missing != 0 {
            let name = collection.fields[missing.trailingZeroBitCount].name
            return refuse(
                name,
                collection.isProfile
                    ? "The \(where_) empties its required field '\(name)'."
                    : "The \(where_) lacks its required field '\(name)'.")
        }
        return nil
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

public import SyncCore

/// What undoing an import did.
public struct UndoOutcome: Sendable, Hashable {
    public var record: ImportRecord
    /// Records the import created, now deleted (tombstones).
    public var deleted: Int
    /// Records the import changed, now holding their values from before it.
    public var restored: Int
}

extension Replica {
    /// Undoes import `id`, in one transaction: records it created are deleted, records it changed get back
    /// the values they had before it. Refused, with nothing changed, when anything the import wrote has
    /// changed since (an edit, a later import, a merge) or a record it created is now named by another
    /// (a delivery, a family of the association…): the message names each record and why.
    public func undoImport(_ id: Int, now: Int64) throws -> UndoOutcome {
        try importWrite { tx in
            guard let text = try tx.settings(prefix: ImportRecord.key(id))[ImportRecord.key(id)] else {
                throw ImportError("There is no import \(id) on this replica: `field admin import list` shows them.")
            }
            var record = try ImportRecord.decoded(text)
            if let undone = record.undoneAt {
                throw ImportError("Import \(id) was already undone (\(FieldSyncRules.day(undone))).")
            }
            let named = try Self.namedIDs(record, tx.records)
            var conflicts: [String] = []
            var pending: [ImportRecord.Write] = []
            for write in record.writes {
                let label = "line \(write.line) (\(write.key))"
                guard let current = try tx.records.record(write.collection, id: write.id) else {
                    if !write.isCreation { conflicts.append("\(label) was deleted since the import") }
                    continue
                }
                let edited = write.after.filter {
                    (current[$0.key] ?? .null).imported != $0.value.imported
                }
                if !edited.isEmpty {
                    conflicts.append(
                        "\(label): \(edited.keys.sorted().joined(separator: ", ")) changed since the import")
                } else if write.isCreation, let by = named[write.id] {
                    conflicts.append("\(label) is now named by \(by)")
                } else {
                    pending.append(write)
                }
            }
            guard conflicts.isEmpty else {
                throw ImportError(
                    "Import \(id) cannot be undone: \(conflicts.count) record(s) changed since. "
                        + conflicts.prefix(20).joined(separator: "; ")
                        + (conflicts.count > 20 ? "; … and \(conflicts.count - 20) more" : "")
                        + ". Nothing was changed: undo later imports first, or correct these records by hand.")
            }
            for write in pending {
                if let before = write.before {
                    try tx.update(write.collection, id: write.id, values: before)
                } else {
                    try tx.delete(write.collection, id: write.id)
                }
            }
            record.undoneAt = now
            try tx.saveSetting(ImportRecord.key(id), try record.encoded())
            let deleted = pending.filter(\.isCreation).count
            return UndoOutcome(record: record, deleted: deleted, restored: pending.count - deleted)
        }
    }

    /// The ids of records the import created that other records now name, with what names them.
    private static func namedIDs(_ record: ImportRecord, _ store: any RecordSource) throws -> [String: String] {
        let created = Set(record.writes.filter(\.isCreation).map(\.id))
        guard !created.isEmpty else { return [:] }
        var named: [String: String] = [:]
        func note(_ collection: String, _ fields: [String], _ what: String) throws {
            for other in try store.records(collection, limit: 100_000_000) {
                for field in fields {
                    if let id = other.values[field]?.textValue, created.contains(id), !created.contains(other.id) {
                        named[id] = named[id] ?? "\(what) \(other.id)"
                    }
                }
            }
        }
        switch record.kind {
        case .families:
            try note("deliveries", ["family"], "delivery")
            try note("families", ["merged_into"], "family")
            try note("distinct_families", ["family", "other"], "a not-duplicate mark")
        case .associations:
            try note("families", ["association"], "family")
            try note("deliveries", ["association"], "delivery")
        case .campaigns:
            try note("deliveries", ["campaign"], "delivery")
            try note("entitlements", ["campaign"], "rule")
        }
        return named
    }
}

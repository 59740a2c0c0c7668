/// A set of changes to apply to a replica, grouped by collection.
///
/// Field names appear once per collection group and cells refer to them by position; a record
/// carries one stamp that its cells share unless a cell carries its own. Facts carry all their fields
/// and the stamp of their creation; profile records carry only the registers that changed.
/// The reserved register `_deleted` (value 1) is a profile's tombstone.
public struct ChangeBatch: Sendable, Hashable {
    public var collections: [CollectionChanges]

    /// The most fields one group lists (and values one record carries).
    static let maxFieldsPerGroup = 128

    public init(_ collections: [CollectionChanges] = []) {
        self.collections = collections
    }

    /// Number of record changes across all collections.
    public var recordCount: Int { collections.reduce(0) { $0 + $1.records.count } }
    public var isEmpty: Bool { collections.allSatisfy { $0.records.isEmpty } }

    /// Every stamp the batch carries, record and cell stamps alike.
    public var maxStamp: Stamp? {
        var result: Stamp?
        for group in collections {
            for record in group.records {
                result = max(result ?? record.stamp, record.stamp)
                for cell in record.cells {
                    if let stamp = cell.stamp { result = max(result ?? stamp, stamp) }
                }
            }
        }
        return result
    }
}

/// The changes to one collection: field names once, then the records.
public struct CollectionChanges: Sendable, Hashable {
    public var name: String
    public var fields: [String]
    public var records: [RecordChange]

    public init(name: String, fields: [String], records: [RecordChange] = []) {
        self.name = name
        self.fields = fields
        self.records = records
    }
}

/// The changed fields of one record.
public struct RecordChange: Sendable, Hashable {
    public var id: String
    /// The stamp of every cell that carries none of its own (for a fact: its creation stamp).
    public var stamp: Stamp
    public var cells: [Cell]

    public init(id: String, stamp: Stamp, cells: [Cell]) {
        self.id = id
        self.stamp = stamp
        self.cells = cells
    }
}

/// One field's value: the position of its name in the group's `fields`, the value, its stamp if it
/// differs from the record's.
public struct Cell: Sendable, Hashable {
    public var field: Int
    public var value: Value
    public var stamp: Stamp?

    public init(field: Int, value: Value, stamp: Stamp? = nil) {
        self.field = field
        self.value = value
        self.stamp = stamp
    }
}

extension CollectionChanges {
    /// The order a store merges the group's records in: a profile's by id (then as sent), so that each
    /// B-tree page is visited once, not once per record (merging commutes); facts as sent, in creation
    /// order, which their ids already follow. Every store merges in this order, and so takes the same
    /// sequences.
    package func mergeOrder(profile: Bool) -> [Int] {
        guard profile else { return Array(records.indices) }
        return records.indices.sorted {
            let (a, b) = (records[$0].id, records[$1].id)
            return a != b ? a < b : $0 < $1
        }
    }
}

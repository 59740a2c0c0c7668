/// The v1 wire form of a ``ChangeBatch``: compact JSON that gzip shrinks well.
///
/// ```json
/// {"nodes": ["5f3a…", …],
///  "groups": [{"collection": "deliveries", "fields": ["city", "family", …],
///              "records": [["01J…", 112233445566, 0, "Tunis", "01H…", …], …]}]}
/// ```
/// - Node ids appear once, in `nodes`; a record names its node by index.
/// - A group lists its field names once; each of its records carries exactly those fields, by position
///   (records with other fields go to another group of the same collection).
/// - A record is `[id, hlc delta, node index, values…]`, then optionally `{"s": [[field position, hlc
///   delta, node index], …]}` for cells stamped apart from the record. Each record's hlc is a delta from
///   the previous record's (from 0 for the first); a cell's from its record's.
public enum WireBatch {
    /// The most record changes one batch may carry.
    public static let maxRecords = 100_000
    /// The most fields one group lists (and values one record carries).
    static let maxFieldsPerGroup = ChangeBatch.maxFieldsPerGroup

    /// The batch's JSON.
    public static func encode(_ batch: ChangeBatch) -> [UInt8] {
        var writer = JSONWriter(capacity: batch.recordCount * 96 + 64)
        encode(batch, into: &writer)
        return writer.bytes
    }

    /// Decodes a batch's JSON; throws `.invalidBatch` saying what was expected where.
    public static func decode(_ bytes: [UInt8], maxRecords: Int = WireBatch.maxRecords) throws(SyncError) -> ChangeBatch
    {
        var reader = JSONReader(bytes)
        let batch = try decode(&reader, maxRecords: maxRecords)
        try reader.end()
        return batch
    }

    package static func encode(_ batch: ChangeBatch, into writer: inout JSONWriter) {
        // The node table first: a decoder can then resolve each record as it reads it, and hand records
        // on (to a merge) before the body ends. Runs of one writer are looked up without hashing.
        var nodeTable = Numbering<NodeID>()
        func index(_ node: NodeID) -> Int { nodeTable.number(node).number }
        for group in batch.collections {
            group.records.withUnsafeBufferPointer { records in
                for record in records {
                    _ = index(record.stamp.node)
                    for cell in record.cells { if let stamp = cell.stamp { _ = index(stamp.node) } }
                }
            }
        }
        writer.raw("{\"nodes\":[")
        for (position, node) in nodeTable.keys.enumerated() {
            if position > 0 { writer.byte(UInt8(ascii: ",")) }
            writer.string(node.description)
        }
        writer.raw("],\"groups\":[")
        var body = writer
        writer = JSONWriter(capacity: 0)
        defer { writer = body }
        var previousHLC: Int64 = 0
        var firstGroup = true
        for group in batch.collections {
            // Records grouped by the set of fields they carry (a 128-bit mask: at most 128 fields a group).
            // Runs of one shape (most pages are one) are appended without hashing.
            var shapes = Numbering<FieldMask>()
            var members: [[Int]] = []
            var inOrder = [Bool](repeating: true, count: group.records.count)
            group.records.withUnsafeBufferPointer { records in
                for recordIndex in records.indices {
                    var mask = FieldMask()
                    var previous = -1
                    records[recordIndex].cells.withUnsafeBufferPointer { cells in
                        for index in cells.indices {
                            let field = cells[index].field
                            mask.insert(field)
                            if field < previous { inOrder[recordIndex] = false }
                            previous = field
                        }
                    }
                    let shape = shapes.number(mask)
                    if shape.isNew {
                        members.append([])
                        if shape.number == 0 { members[0].reserveCapacity(records.count) }
                    }
                    members[shape.number].append(recordIndex)
                }
            }
            for (shapeNumber, mask) in shapes.keys.enumerated() {
                let shape = mask.fields
                if !firstGroup { body.byte(UInt8(ascii: ",")) }
                firstGroup = false
                body.raw("{\"collection\":")
                body.string(group.name)
                body.raw(",\"fields\":[")
                for (position, field) in shape.enumerated() {
                    if position > 0 { body.byte(UInt8(ascii: ",")) }
                    body.string(group.fields[field])
                }
                body.raw("],\"records\":[")
                var positionOf: [Int: Int] = [:]
                for (position, field) in shape.enumerated() { positionOf[field] = position }
                for (n, recordIndex) in members[shapeNumber].enumerated() {
                    let record = group.records[recordIndex]
                    if n > 0 { body.byte(UInt8(ascii: ",")) }
                    body.byte(UInt8(ascii: "["))
                    body.string(record.id)
                    body.byte(UInt8(ascii: ","))
                    let hlc = record.stamp.hlc.storage
                    body.int(hlc &- previousHLC)
                    previousHLC = hlc
                    body.byte(UInt8(ascii: ","))
                    body.int(Int64(index(record.stamp.node)))
                    let cells = inOrder[recordIndex] ? record.cells : record.cells.sorted { $0.field < $1.field }
                    var separate = false
                    cells.withUnsafeBufferPointer { cells in
                        for index in cells.indices {
                            body.byte(UInt8(ascii: ","))
                            body.value(cells[index].value)
                            if let stamp = cells[index].stamp, stamp != record.stamp { separate = true }
                        }
                    }
                    if separate {
                        let stamped = cells.filter { $0.stamp != nil && $0.stamp != record.stamp }
                        body.raw(",{\"s\":[")
                        for (k, cell) in stamped.enumerated() {
                            guard let stamp = cell.stamp else { continue }
                            if k > 0 { body.byte(UInt8(ascii: ",")) }
                            body.byte(UInt8(ascii: "["))
                            body.int(Int64(positionOf[cell.field] ?? 0))
                            body.byte(UInt8(ascii: ","))
                            body.int(stamp.hlc.storage &- hlc)
                            body.byte(UInt8(ascii: ","))
                            body.int(Int64(index(stamp.node)))
                            body.byte(UInt8(ascii: "]"))
                        }
                        body.raw("]}")
                    }
                    body.byte(UInt8(ascii: "]"))
                }
                body.raw("]}")
            }
        }
        body.raw("]}")
    }
}

/// Numbers keys in the order they first appear (0, 1, …). A key equal to the one before (runs of one
/// writer, one shape) is numbered without hashing.
private struct Numbering<Key: Hashable> {
    private(set) var keys: [Key] = []
    private var numbers: [Key: Int] = [:]
    private var last: (key: Key, number: Int)?

    mutating func number(_ key: Key) -> (number: Int, isNew: Bool) {
        if let last, last.key == key { return (last.number, false) }
        var isNew = false
        let number: Int
        if let known = numbers[key] {
            number = known
        } else {
            number = keys.count
            numbers[key] = number
            keys.append(key)
            isNew = true
        }
        last = (key, number)
        return (number, isNew)
    }
}

/// A set of field positions below 128, as two words.
private struct FieldMask: Hashable {
    var low: UInt64 = 0
    var high: UInt64 = 0

    mutating func insert(_ field: Int) {
        if field < 64 {
            low |= 1 << UInt64(field)
        } else if field < 128 {
            high |= 1 << UInt64(field - 64)
        }
    }

    /// The positions, ascending.
    var fields: [Int] {
        (0..<64).filter { low & (1 << UInt64($0)) != 0 }
            + (0..<64).filter { high & (1 << UInt64($0)) != 0 }.map { $0 + 64 }
    }
}

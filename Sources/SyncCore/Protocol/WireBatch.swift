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
    static let maxFieldsPerGroup = 128

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

    /// How many records a decoder hands on at a time (see `decode(_:maxRecords:chunks:)`).
    package static let chunkRecords = 128
    /// The first chunk of a group is smaller: the merge waits for it, and then never for the decoder, which
    /// reads a record about twenty times faster than the merge writes it.
    package static let firstChunkRecords = 32

    /// Decodes a batch. With `chunks`, records are also handed on as they are read, resolved, in runs of
    /// at most ``chunkRecords`` of one group, when the body names its nodes before its groups (as
    /// ``encode(_:)`` writes it; a body in another order is decoded whole and hands nothing on). The
    /// chunks, in order, hold exactly the batch's records; but they are only worth anything once the
    /// whole batch has decoded without an error (a chunk's records are checked again with the group).
    package static func decode(
        _ reader: inout JSONReader, maxRecords: Int = WireBatch.maxRecords,
        chunks: ((CollectionChanges) -> Void)? = nil
    ) throws(SyncError)
        -> ChangeBatch
    {
        // Keys may come in any order: node indexes and field counts are checked once everything is read.
        var nodes: [NodeID] = []
        var nodesRead = false
        var groups: [CollectionChanges] = []
        /// Per group: whether its records were read before the node table (resolved at the end).
        var deferred: [Bool] = []
        var recordNodes: [(group: Int, record: Int, node: Int64)] = []
        var cellStamps: [(group: Int, record: Int, cell: Int, delta: Int64, node: Int64)] = []
        var records = 0
        var previousHLC: Int64 = 0
        func resolve(_ index: Int64) throws(SyncError) -> NodeID {
            guard index >= 0, index < nodes.count else {
                throw SyncError(
                    .invalidBatch,
                    "Invalid body: node index \(index) is not below \(nodes.count), the size of \"nodes\".")
            }
            return nodes[Int(index)]
        }
        try reader.object("a batch object") { (reader, key) throws(SyncError) in
            switch key {
            case "nodes":
                // Records already resolved against the table: a second one would change what they mean.
                guard !nodesRead else { throw SyncError(.invalidBatch, "Invalid body: \"nodes\" appears twice.") }
                nodesRead = true
                try reader.array("an array of node ids") { (reader) throws(SyncError) in
                    guard nodes.count <= maxRecords * 2 else { throw reader.error(expected: "fewer node ids") }
                    nodes.append(try SyncRequest.node(&reader))
                }
            case "groups":
                // Nodes known: each record is resolved as it is read (and may be handed on).
                let resolveNow = nodesRead
                try reader.array("an array of groups") { (reader) throws(SyncError) in
                    var name: String?
                    var fields: [String]?
                    var group = CollectionChanges(name: "", fields: [])
                    let groupIndex = groups.count
                    var firstStamp = cellStamps.count
                    var handedOn = 0
                    func handOn(upTo end: Int) {
                        guard let chunks, resolveNow, let name, let fields, end > handedOn else { return }
                        chunks(
                            CollectionChanges(name: name, fields: fields, records: Array(group.records[handedOn..<end]))
                        )
                        handedOn = end
                    }
                    try reader.object("a group object") { (reader, key) throws(SyncError) in
                        switch key {
                        case "collection": name = try reader.string("a collection name")
                        case "fields":
                            var names: [String] = []
                            try reader.array("an array of field names") { (reader) throws(SyncError) in
                                guard names.count < Self.maxFieldsPerGroup else {
                                    throw reader.error(expected: "at most \(Self.maxFieldsPerGroup) fields")
                                }
                                names.append(try reader.string("a field name"))
                            }
                            fields = names
                        case "records":
                            firstStamp = cellStamps.count
                            group.records.reserveCapacity(1024)
                            try reader.array("an array of records") { (reader) throws(SyncError) in
                                records += 1
                                guard records <= maxRecords else {
                                    throw SyncError(
                                        .invalidBatch, "The batch carries more than \(maxRecords) records, the limit.")
                                }
                                let stampsBefore = cellStamps.count
                                var (record, node) = try record(
                                    &reader, previousHLC: &previousHLC, group: groupIndex, index: group.records.count,
                                    expectedValues: fields?.count ?? 8, stamps: &cellStamps)
                                if resolveNow {
                                    record.stamp.node = try resolve(node)
                                    for stamp in cellStamps[stampsBefore...] where stamp.cell < record.cells.count {
                                        record.cells[stamp.cell].stamp = Stamp(
                                            hlc: HLCTimestamp(storage: record.stamp.hlc.storage &+ stamp.delta),
                                            node: try resolve(stamp.node))
                                    }
                                } else {
                                    recordNodes.append((groupIndex, group.records.count, node))
                                }
                                group.records.append(record)
                                let chunk = handedOn == 0 ? Self.firstChunkRecords : Self.chunkRecords
                                if group.records.count - handedOn >= chunk {
                                    handOn(upTo: group.records.count)
                                }
                            }
                        default: try reader.skip()
                        }
                    }
                    guard let name else {
                        throw SyncError(.invalidBatch, "Invalid body: a group has no \"collection\".")
                    }
                    let fieldCount = fields?.count ?? 0
                    for record in group.records where record.cells.count != fieldCount {
                        throw SyncError(
                            .invalidBatch,
                            "Invalid body: record \(record.id.prefix(64)) of a '\(name.prefix(64))' group has "
                                + "\(record.cells.count) values for \(fieldCount) fields.")
                    }
                    for stamp in cellStamps[firstStamp...] where stamp.cell >= fieldCount {
                        throw SyncError(
                            .invalidBatch,
                            "Invalid body: a cell stamp names field position \(stamp.cell) of \(fieldCount).")
                    }
                    if fields == nil { fields = [] }
                    handOn(upTo: group.records.count)
                    group.name = name
                    group.fields = fields ?? []
                    groups.append(group)
                    deferred.append(!resolveNow)
                }
            default: try reader.skip()
            }
        }
        // Records read before the node table: resolved now.
        for entry in recordNodes {
            groups[entry.group].records[entry.record].stamp.node = try resolve(entry.node)
        }
        for cell in cellStamps where deferred[cell.group] {
            let record = groups[cell.group].records[cell.record]
            groups[cell.group].records[cell.record].cells[cell.cell].stamp = Stamp(
                hlc: HLCTimestamp(storage: record.stamp.hlc.storage &+ cell.delta), node: try resolve(cell.node))
        }
        return ChangeBatch(groups)
    }

    private static let placeholder = NodeID(rawValue: 1)!

    /// `[id, hlc delta, node index, values…, {"s": […]}?]`; the node index is resolved by the caller.
    private static func record(
        _ reader: inout JSONReader, previousHLC: inout Int64, group: Int, index: Int, expectedValues: Int,
        stamps: inout [(group: Int, record: Int, cell: Int, delta: Int64, node: Int64)]
    ) throws(SyncError) -> (RecordChange, Int64) {
        var record = RecordChange(id: "", stamp: Stamp(hlc: .zero, node: placeholder), cells: [])
        record.cells.reserveCapacity(expectedValues)
        var node: Int64 = 0
        try reader.array("a record array [id, hlc delta, node index, values…]") { (reader) throws(SyncError) in
            record.id = try reader.string("a record id")
            guard reader.nextElement() else { throw reader.error(expected: "',' and the record's hlc delta") }
            let (hlc, overflow) = previousHLC.addingReportingOverflow(try reader.int("an hlc delta"))
            guard !overflow, hlc >= 0 else { throw reader.error(expected: "an hlc delta that gives a valid clock") }
            previousHLC = hlc
            guard reader.nextElement() else { throw reader.error(expected: "',' and the record's node index") }
            node = try reader.int("a node index")
            record.stamp.hlc = HLCTimestamp(storage: hlc)
            var sawStamps = false
            while reader.nextElement() {
                guard !sawStamps else { throw reader.error(expected: "']' after the cell stamps") }
                guard reader.peek() == UInt8(ascii: "{") else {
                    guard record.cells.count < Self.maxFieldsPerGroup else {
                        throw reader.error(expected: "at most \(Self.maxFieldsPerGroup) values")
                    }
                    record.cells.append(
                        Cell(
                            field: record.cells.count, value: try reader.value("a field value (null, number or string)")
                        ))
                    continue
                }
                sawStamps = true
                try reader.object("the record's cell stamps {\"s\": […]}") { (reader, key) throws(SyncError) in
                    guard key == "s" else { return try reader.skip() }
                    try reader.array("an array of cell stamps") { (reader) throws(SyncError) in
                        var parts: [Int64] = []
                        try reader.array("a cell stamp [field position, hlc delta, node index]") {
                            (reader) throws(SyncError) in
                            guard parts.count < 3 else { throw reader.error(expected: "']' after three numbers") }
                            parts.append(try reader.int("a number"))
                        }
                        let cellHLC = hlc.addingReportingOverflow(parts.count == 3 ? parts[1] : 0)
                        guard parts.count == 3, parts[0] >= 0, parts[0] < Int64(Self.maxFieldsPerGroup),
                            !cellHLC.overflow, cellHLC.partialValue >= 0
                        else { throw reader.error(expected: "a valid [field position, hlc delta, node index]") }
                        stamps.append((group, index, Int(parts[0]), parts[1], parts[2]))
                    }
                }
            }
        }
        return (record, node)
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

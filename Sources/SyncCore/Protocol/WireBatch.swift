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

    /// The batch's JSON.
    public static func encode(_ batch: ChangeBatch) -> [UInt8] {
        var writer = JSONWriter(capacity: batch.recordCount * 96 + 64)
        encode(batch, into: &writer)
        return writer.bytes
    }

    /// Decodes a batch's JSON; throws `.invalidBatch` saying what was expected where.
    public static func decode(_ bytes: [UInt8], maxRecords: Int = WireBatch.maxRecords) throws(SyncError) -> ChangeBatch {
        var reader = JSONReader(bytes)
        let batch = try decode(&reader, maxRecords: maxRecords)
        try reader.end()
        return batch
    }

    package static func encode(_ batch: ChangeBatch, into writer: inout JSONWriter) {
        var nodeIndex: [NodeID: Int] = [:]
        var nodes: [NodeID] = []
        func index(_ node: NodeID) -> Int {
            if let known = nodeIndex[node] { return known }
            nodeIndex[node] = nodes.count
            nodes.append(node)
            return nodes.count - 1
        }
        // Groups first (they fill the node table), then the envelope around them.
        var body = JSONWriter(capacity: batch.recordCount * 96 + 64)
        var previousHLC: Int64 = 0
        var firstGroup = true
        for group in batch.collections {
            var shapes: [[Int]: [Int]] = [:]  // field positions → record indexes
            var order: [[Int]] = []
            for (recordIndex, record) in group.records.enumerated() {
                let shape = record.cells.map(\.field).sorted()
                if shapes[shape] == nil { order.append(shape) }
                shapes[shape, default: []].append(recordIndex)
            }
            for shape in order {
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
                for (n, recordIndex) in shapes[shape, default: []].enumerated() {
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
                    let cells = record.cells.sorted { $0.field < $1.field }
                    for cell in cells {
                        body.byte(UInt8(ascii: ","))
                        body.value(cell.value)
                    }
                    let stamped = cells.filter { $0.stamp != nil && $0.stamp != record.stamp }
                    if !stamped.isEmpty {
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
        writer.raw("{\"nodes\":[")
        for (position, node) in nodes.enumerated() {
            if position > 0 { writer.byte(UInt8(ascii: ",")) }
            writer.string(node.description)
        }
        writer.raw("],\"groups\":[")
        writer.append(body.bytes)
        writer.raw("]}")
    }

    package static func decode(_ reader: inout JSONReader, maxRecords: Int = WireBatch.maxRecords) throws(SyncError)
        -> ChangeBatch
    {
        var nodes: [NodeID] = []
        var groups: [CollectionChanges] = []
        var pending: [(group: Int, record: Int, cell: Int, delta: Int64, node: Int)] = []
        var sawNodes = false
        var records = 0
        var previousHLC: Int64 = 0
        try reader.object("a batch object") { (reader, key) throws(SyncError) in
            switch key {
            case "nodes":
                guard groups.isEmpty else { throw reader.error(expected: "\"nodes\" before \"groups\"") }
                sawNodes = true
                try reader.array("an array of node ids") { (reader) throws(SyncError) in
                    let text = try reader.string("a node id (16 hex digits)")
                    guard let node = NodeID(hex: text) else {
                        throw SyncError(.invalidBatch, "Invalid body: '\(text.prefix(40))' is not a node id (16 hex digits).")
                    }
                    guard nodes.count < maxRecords * 2 + 1 else { throw reader.error(expected: "fewer node ids") }
                    nodes.append(node)
                }
            case "groups":
                try reader.array("an array of groups") { (reader) throws(SyncError) in
                    var name: String?
                    var fields: [String]?
                    var group = CollectionChanges(name: "", fields: [])
                    try reader.object("a group object") { (reader, key) throws(SyncError) in
                        switch key {
                        case "collection": name = try reader.string("a collection name")
                        case "fields":
                            var names: [String] = []
                            try reader.array("an array of field names") { (reader) throws(SyncError) in
                                guard names.count < BatchPlan.maxFieldsPerGroup else {
                                    throw reader.error(expected: "at most \(BatchPlan.maxFieldsPerGroup) fields")
                                }
                                names.append(try reader.string("a field name"))
                            }
                            fields = names
                        case "records":
                            guard let fields else { throw reader.error(expected: "\"fields\" before \"records\"") }
                            guard sawNodes else { throw reader.error(expected: "\"nodes\" before \"records\"") }
                            try reader.array("an array of records") { (reader) throws(SyncError) in
                                records += 1
                                guard records <= maxRecords else {
                                    throw SyncError(
                                        .invalidBatch, "The batch carries more than \(maxRecords) records, the limit.")
                                }
                                group.records.append(
                                    try record(
                                        &reader, fields: fields.count, nodes: nodes, previousHLC: &previousHLC,
                                        group: groups.count, index: group.records.count, pending: &pending))
                            }
                        default: try reader.skip()
                        }
                    }
                    guard let name else { throw SyncError(.invalidBatch, "Invalid body: a group has no \"collection\".") }
                    group.name = name
                    group.fields = fields ?? []
                    groups.append(group)
                }
            default: try reader.skip()
            }
        }
        for cell in pending {
            let record = groups[cell.group].records[cell.record]
            groups[cell.group].records[cell.record].cells[cell.cell].stamp = Stamp(
                hlc: HLCTimestamp(storage: record.stamp.hlc.storage &+ cell.delta), node: nodes[cell.node])
        }
        return ChangeBatch(groups)
    }

    private static func record(
        _ reader: inout JSONReader, fields: Int, nodes: [NodeID], previousHLC: inout Int64, group: Int, index: Int,
        pending: inout [(group: Int, record: Int, cell: Int, delta: Int64, node: Int)]
    ) throws(SyncError) -> RecordChange {
        var record = RecordChange(id: "", stamp: Stamp(hlc: .zero, node: NodeID(rawValue: 1)!), cells: [])
        try reader.array("a record array [id, hlc delta, node index, values…]") { (reader) throws(SyncError) in
            record.id = try reader.string("a record id")
            guard reader.nextElement() else { throw reader.error(expected: "',' and the record's hlc delta") }
            let (hlc, overflow) = previousHLC.addingReportingOverflow(try reader.int("an hlc delta"))
            guard !overflow, hlc >= 0 else { throw reader.error(expected: "an hlc delta that gives a valid clock") }
            previousHLC = hlc
            guard reader.nextElement() else { throw reader.error(expected: "',' and the record's node index") }
            let node = try reader.int("a node index")
            guard node >= 0, node < nodes.count else {
                throw reader.error(expected: "a node index below \(nodes.count)")
            }
            record.stamp = Stamp(hlc: HLCTimestamp(storage: hlc), node: nodes[Int(node)])
            record.cells.reserveCapacity(fields)
            for field in 0..<fields {
                guard reader.nextElement() else { throw reader.error(expected: "',' and the value of field \(field)") }
                record.cells.append(Cell(field: field, value: try reader.value("a field value (null, number or string)")))
            }
            if reader.nextElement() {
                try reader.object("the record's cell stamps {\"s\": […]}") { (reader, key) throws(SyncError) in
                    guard key == "s" else { return try reader.skip() }
                    try reader.array("an array of cell stamps") { (reader) throws(SyncError) in
                        var parts: [Int64] = []
                        try reader.array("a cell stamp [field position, hlc delta, node index]") {
                            (reader) throws(SyncError) in
                            guard parts.count < 3 else { throw reader.error(expected: "']' after three numbers") }
                            parts.append(try reader.int("a number"))
                        }
                        guard parts.count == 3, parts[0] >= 0, parts[0] < fields, parts[2] >= 0, parts[2] < nodes.count,
                            hlc.addingReportingOverflow(parts[1]).partialValue >= 0,
                            !hlc.addingReportingOverflow(parts[1]).overflow
                        else { throw reader.error(expected: "a valid [field position, hlc delta, node index]") }
                        pending.append((group, index, Int(parts[0]), parts[1], Int(parts[2])))
                    }
                }
            }
        }
        return record
    }
}


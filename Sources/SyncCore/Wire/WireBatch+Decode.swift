extension WireBatch {
    /// How many records a decoder hands on at a time (see `decode(_:maxRecords:chunks:)`).
    package static let chunkRecords = 128
    /// The first chunk of a group is smaller: the merge waits for it, and then never for the decoder, which
    /// reads a record about twenty times faster than the merge writes it.
    package static let firstChunkRecords = 32

    /// Decodes a batch. Records are resolved as they are read when the body names its nodes before its
    /// groups (as ``encode(_:)`` writes it), at the end otherwise.
    ///
    /// With `chunks`, resolved records are also handed on as they are read, in runs of at most
    /// ``chunkRecords`` of one group (a body that names its nodes after its groups hands nothing on). The
    /// chunks, in order, hold exactly the batch's records; but they are only worth anything once the whole
    /// batch has decoded without an error (a chunk's records are checked again with their group).
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
                    var recordsRead = false
                    func handOn(upTo end: Int) {
                        guard let chunks, resolveNow, let name, let fields, end > handedOn else { return }
                        chunks(
                            CollectionChanges(name: name, fields: fields, records: Array(group.records[handedOn..<end]))
                        )
                        handedOn = end
                    }
                    try reader.object("a group object") { (reader, key) throws(SyncError) in
                        switch key {
                        case "collection":
                            // Runs already handed on carry the first name and fields: a second would change
                            // what they mean.
                            guard name == nil else {
                                throw SyncError(.invalidBatch, "Invalid body: a group's \"collection\" appears twice.")
                            }
                            name = try reader.string("a collection name")
                        case "fields":
                            guard fields == nil else {
                                throw SyncError(.invalidBatch, "Invalid body: a group's \"fields\" appears twice.")
                            }
                            var names: [String] = []
                            try reader.array("an array of field names") { (reader) throws(SyncError) in
                                guard names.count < Self.maxFieldsPerGroup else {
                                    throw reader.error(expected: "at most \(Self.maxFieldsPerGroup) fields")
                                }
                                names.append(try reader.string("a field name"))
                            }
                            fields = names
                        case "records":
                            guard !recordsRead else {
                                throw SyncError(.invalidBatch, "Invalid body: a group's \"records\" appears twice.")
                            }
                            recordsRead = true
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
                                if group.records.count - handedOn >= chunk { handOn(upTo: group.records.count) }
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
    fileprivate static func record(
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

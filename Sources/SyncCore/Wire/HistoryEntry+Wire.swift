/// Conflicts a hub saw (two of its devices wrote the same field), relayed upstream so that central's
/// report lists every conflict, not only those central itself resolved.
extension HistoryEntry {
    /// The most conflicts one request relays; the rest go with the next sync.
    public static let maxRelayed = 5_000

    func encode(into writer: inout JSONWriter) {
        writer.raw("{\"collection\":")
        writer.string(collection)
        writer.raw(",\"record\":")
        writer.string(recordID)
        writer.raw(",\"field\":")
        writer.string(field)
        writer.raw(",\"value\":")
        writer.value(value)
        writer.raw(",\"value_hlc\":")
        writer.int(stamp.hlc.storage)
        writer.raw(",\"value_node\":")
        writer.string(stamp.node.description)
        writer.raw(",\"winner_hlc\":")
        writer.int(winner.hlc.storage)
        writer.raw(",\"winner_node\":")
        writer.string(winner.node.description)
        writer.byte(UInt8(ascii: "}"))
    }

    /// Its texts without U+0000 (`String.withoutNUL`): a relayed conflict is kept and shown, at every store.
    static func decode(_ reader: inout JSONReader) throws(SyncError) -> HistoryEntry {
        var parts: (collection: String?, record: String?, field: String?, value: Value) = (nil, nil, nil, .null)
        var stamps: (Int64?, NodeID?, Int64?, NodeID?) = (nil, nil, nil, nil)
        try reader.object("a conflict object") { (reader, key) throws(SyncError) in
            switch key {
            case "collection": parts.collection = String(try reader.string("a collection").prefix(64)).withoutNUL
            case "record": parts.record = String(try reader.string("a record id").prefix(64)).withoutNUL
            case "field": parts.field = String(try reader.string("a field").prefix(64)).withoutNUL
            case "value": parts.value = try reader.value("a value").withoutNUL
            case "value_hlc": stamps.0 = try reader.int("an hlc")
            case "value_node": stamps.1 = try SyncRequest.node(&reader)
            case "winner_hlc": stamps.2 = try reader.int("an hlc")
            case "winner_node": stamps.3 = try SyncRequest.node(&reader)
            default: try reader.skip()
            }
        }
        guard let collection = parts.collection, let record = parts.record, let field = parts.field,
            let valueHLC = stamps.0, let valueNode = stamps.1, let winnerHLC = stamps.2, let winnerNode = stamps.3,
            valueHLC >= 0, winnerHLC >= 0
        else {
            throw SyncError(
                .invalidBatch, "Invalid body: a relayed conflict needs collection, record, field and both stamps.")
        }
        return HistoryEntry(
            collection: collection, recordID: record, field: field, value: parts.value,
            stamp: Stamp(hlc: HLCTimestamp(storage: valueHLC), node: valueNode),
            winner: Stamp(hlc: HLCTimestamp(storage: winnerHLC), node: winnerNode))
    }
}

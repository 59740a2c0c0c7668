extension Refusal {
    /// `,"refused":[…]` when `refusals` is not empty (an answer without refusals carries no key).
    package static func encode(_ refusals: [Refusal], into writer: inout JSONWriter) {
        guard !refusals.isEmpty else { return }
        writer.raw(",\"refused\":[")
        for (index, refusal) in refusals.enumerated() {
            if index > 0 { writer.byte(UInt8(ascii: ",")) }
            refusal.encode(into: &writer)
        }
        writer.byte(UInt8(ascii: "]"))
    }

    /// An array of at most `max` refused records.
    package static func decodeList(_ reader: inout JSONReader, max: Int = maxPerAnswer) throws(SyncError) -> [Refusal] {
        var refusals: [Refusal] = []
        try reader.array("an array of refused records") { (reader) throws(SyncError) in
            guard refusals.count < max else {
                throw reader.error(expected: "at most \(max) refused records")
            }
            refusals.append(try Refusal.decode(&reader))
        }
        return refusals
    }

    /// `{"collection":…,"id":…,"code":…,"field":…,"detail":…}` (`field` only when there is one).
    package func encode(into writer: inout JSONWriter) {
        writer.raw("{\"collection\":")
        writer.string(collection)
        writer.raw(",\"id\":")
        writer.string(id)
        writer.raw(",\"code\":")
        writer.string(code.rawValue)
        if let field {
            writer.raw(",\"field\":")
            writer.string(field)
        }
        writer.raw(",\"detail\":")
        writer.string(detail)
        if stays { writer.raw(",\"stays\":true") }
        writer.byte(UInt8(ascii: "}"))
    }

    package static func decode(_ reader: inout JSONReader) throws(SyncError) -> Refusal {
        var refusal = Refusal(collection: "", id: "", code: .invalidValue, detail: "")
        try reader.object("a refused record") { (reader, key) throws(SyncError) in
            switch key {
            case "collection": refusal.collection = String(try reader.string("a collection name").prefix(64))
            case "id": refusal.id = String(try reader.string("a record id").prefix(64))
            case "code": refusal.code = SyncError.Code(String(try reader.string("a refusal code").prefix(64)))
            case "field": refusal.field = reader.null() ? nil : String(try reader.string("a field name").prefix(64))
            case "detail": refusal.detail = String(try reader.string("a reason").prefix(1000))
            case "stays": refusal.stays = try reader.bool("true or false")
            default: try reader.skip()
            }
        }
        guard !refusal.collection.isEmpty, RecordRef.isValidID(refusal.id) else {
            throw SyncError(.invalidBatch, "Invalid body: a refused record needs \"collection\" and a valid \"id\".")
        }
        return refusal
    }
}

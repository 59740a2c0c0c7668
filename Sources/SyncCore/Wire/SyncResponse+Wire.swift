extension SyncResponse {
    public func encoded() -> [UInt8] {
        encodedHead() + encodedTail()
    }

    /// Everything but the clock: a pull page can be encoded ahead and the clock added when it is sent.
    package func encodedHead() -> [UInt8] {
        var writer = JSONWriter(capacity: (pull?.batch.recordCount ?? 0) * 96 + 256)
        writer.raw("{\"v\":1,\"node\":")
        writer.string(node.description)
        if let pushed {
            writer.raw(",\"push\":{\"to\":")
            writer.cursor(pushed.to)
            writer.raw(",\"records\":")
            writer.int(Int64(pushed.records))
            writer.raw(",\"conflicts\":")
            writer.int(Int64(pushed.conflicts))
            Refusal.encode(pushed.refused, into: &writer)
            writer.byte(UInt8(ascii: "}"))
        }
        if let pull {
            writer.raw(",\"pull\":{\"cursor\":")
            writer.cursor(pull.cursor)
            writer.raw(pull.more ? ",\"more\":true,\"batch\":" : ",\"more\":false,\"batch\":")
            if let encoded = pull.encodedBatch {
                writer.append(encoded)
            } else {
                WireBatch.encode(pull.batch, into: &writer)
            }
            if !pull.left.isEmpty {
                // {"families":["id",…]}: grouped, each collection named once.
                writer.raw(",\"left\":{")
                // Collections in the order they first appear: a decoded page encodes back the same.
                var order: [String] = []
                var ids: [String: [String]] = [:]
                for ref in pull.left {
                    if ids[ref.collection] == nil { order.append(ref.collection) }
                    ids[ref.collection, default: []].append(ref.id)
                }
                for (index, collection) in order.enumerated() {
                    if index > 0 { writer.byte(UInt8(ascii: ",")) }
                    writer.string(collection)
                    writer.raw(":[")
                    for (position, id) in (ids[collection] ?? []).enumerated() {
                        if position > 0 { writer.byte(UInt8(ascii: ",")) }
                        writer.string(id)
                    }
                    writer.byte(UInt8(ascii: "]"))
                }
                writer.byte(UInt8(ascii: "}"))
            }
            Refusal.encode(pull.refused, into: &writer)
            writer.byte(UInt8(ascii: "}"))
        }
        return writer.bytes
    }

    /// The clock and the closing brace.
    package static func encodedTail(clockMillis: Int64) -> [UInt8] {
        var writer = JSONWriter(capacity: 32)
        writer.raw(",\"clock\":")
        writer.int(clockMillis)
        writer.byte(UInt8(ascii: "}"))
        return writer.bytes
    }

    package func encodedTail() -> [UInt8] { Self.encodedTail(clockMillis: clockMillis) }

    /// A response encoded ahead of its clock: `finish(clock:)` gives the body, compressed in `coding`.
    public final class Prepared: @unchecked Sendable {
        // @unchecked: used by one request at a time (taken from the read-ahead cache, then finished once).
        public let records: Int
        /// Records of the push this answer acknowledges.
        public let pushedRecords: Int
        public let cursor: FeedCursor?
        public let more: Bool
        public let coding: ContentCoding
        private let stream: BodyStream

        public init(_ response: SyncResponse, coding: ContentCoding) {
            records = response.pull?.batch.recordCount ?? 0
            pushedRecords = response.pushed?.records ?? 0
            cursor = response.pull?.cursor
            more = response.pull?.more ?? false
            self.coding = coding
            stream = coding.stream()
            stream.write(response.encodedHead())
        }

        public convenience init(_ response: SyncResponse, gzip: Bool) {
            self.init(response, coding: gzip ? .gzip : .identity)
        }

        public func finish(clockMillis: Int64) -> [UInt8] {
            stream.finish(SyncResponse.encodedTail(clockMillis: clockMillis))
        }
    }

    public init(decoding bytes: [UInt8]) throws(SyncError) {
        var reader = JSONReader(bytes)
        var node: NodeID?
        var clock: Int64?
        var pushed: PushAck?
        var pull: PullPage?
        try reader.object("a sync response object") { (reader, key) throws(SyncError) in
            switch key {
            case "node": node = try SyncRequest.node(&reader)
            case "clock": clock = try reader.int("the server's clock (Unix ms)")
            case "push":
                var ack = PushAck(to: .start, records: 0, conflicts: 0)
                try reader.object("a push acknowledgement") { (reader, key) throws(SyncError) in
                    switch key {
                    case "to": ack.to = try SyncRequest.cursor(&reader)
                    case "records": ack.records = Int(try reader.int("a record count"))
                    case "conflicts": ack.conflicts = Int(try reader.int("a conflict count"))
                    case "refused": ack.refused = try Refusal.decodeList(&reader)
                    default: try reader.skip()
                    }
                }
                pushed = ack
            case "pull":
                var page = PullPage(batch: ChangeBatch(), cursor: .start, more: false)
                try reader.object("a pull page") { (reader, key) throws(SyncError) in
                    switch key {
                    case "cursor": page.cursor = try SyncRequest.cursor(&reader)
                    case "more": page.more = try reader.bool("true or false")
                    case "batch": page.batch = try WireBatch.decode(&reader)
                    case "left":
                        try reader.object("records that left the scope, by collection") {
                            (reader, name) throws(SyncError) in
                            try reader.array("record ids") { (reader) throws(SyncError) in
                                let id = try reader.string("a record id")
                                guard RecordRef.isValidID(id), page.left.count < FeedPage.maxLeft else {
                                    throw reader.error(expected: "a valid record id")
                                }
                                page.left.append(RecordRef(collection: name, id: id))
                            }
                        }
                    case "refused": page.refused = try Refusal.decodeList(&reader, max: FeedPage.maxLeft)
                    default: try reader.skip()
                    }
                }
                pull = page
            default: try reader.skip()
            }
        }
        try reader.end()
        guard let node, let clock else {
            throw SyncError(.invalidBatch, "Invalid response: a sync response needs \"node\" and \"clock\".")
        }
        self.init(node: node, clockMillis: clock, pushed: pushed, pull: pull)
    }
}

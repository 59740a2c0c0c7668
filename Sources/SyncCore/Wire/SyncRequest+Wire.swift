// MARK: Encoding

extension SyncRequest {
    public func encoded() -> [UInt8] {
        encodedHead() + encodedTail()
    }

    /// The first part of the body: the version, the node and the push (known before the pull cursor).
    package func encodedHead() -> [UInt8] {
        var writer = JSONWriter(capacity: (push?.batch.recordCount ?? 0) * 96 + 256)
        writer.raw("{\"v\":1,\"node\":")
        writer.string(node.description)
        if let push {
            writer.raw(",\"push\":{\"to\":")
            writer.cursor(push.to)
            writer.raw(",\"batch\":")
            WireBatch.encode(push.batch, into: &writer)
            writer.byte(UInt8(ascii: "}"))
        }
        return writer.bytes
    }

    /// The rest: the clock, the pull, the heartbeat, and the closing brace.
    package func encodedTail() -> [UInt8] {
        var writer = JSONWriter(capacity: 256)
        writer.raw(",\"clock\":")
        writer.int(clockMillis)
        if let lease {
            writer.raw(",\"lease\":{\"previous\":")
            if let previous = lease.previous { writer.string(Self.leaseText(previous)) } else { writer.raw("null") }
            if let next = lease.next {
                writer.raw(",\"next\":")
                writer.string(Self.leaseText(next))
            }
            if let after = lease.after {
                writer.raw(",\"after\":")
                writer.string(Self.leaseText(after))
            }
            writer.byte(UInt8(ascii: "}"))
        }
        if let rekeyedFrom {
            writer.raw(",\"rekeyed_from\":")
            writer.string(rekeyedFrom.description)
        }
        if let pull {
            writer.raw(",\"pull\":{\"cursor\":")
            writer.cursor(pull.cursor)
            writer.raw(",\"limit\":")
            writer.int(Int64(pull.limit))
            if let budget = pull.budget {
                writer.raw(",\"budget\":")
                writer.int(Int64(budget))
            }
            writer.byte(UInt8(ascii: "}"))
        }
        if let heartbeat {
            writer.raw(",\"heartbeat\":")
            heartbeat.encode(into: &writer)
        }
        if !conflicts.isEmpty {
            writer.raw(",\"conflicts\":[")
            for (index, entry) in conflicts.enumerated() {
                if index > 0 { writer.byte(UInt8(ascii: ",")) }
                entry.encode(into: &writer)
            }
            writer.byte(UInt8(ascii: "]"))
        }
        if !relayed.isEmpty {
            writer.raw(",\"relayed\":[")
            for (index, status) in relayed.enumerated() {
                if index > 0 { writer.byte(UInt8(ascii: ",")) }
                status.encode(into: &writer)
            }
            writer.byte(UInt8(ascii: "]"))
        }
        writer.byte(UInt8(ascii: "}"))
        return writer.bytes
    }

    /// Decodes a request body (already decompressed). Throws `.invalidBatch` saying what was wrong where.
    ///
    /// `pushChunks` receives the push's records as they are read (see `WireBatch.decode(_:maxRecords:chunks:)`),
    /// with the request's node when the body named it before its push (as ``encodedHead()`` writes it).
    public init(
        decoding bytes: [UInt8], maxRecords: Int = WireBatch.maxRecords,
        pushChunks: ((NodeID?, CollectionChanges) -> Void)? = nil
    ) throws(SyncError) {
        var reader = JSONReader(bytes)
        var version: Int64?
        var node: NodeID?
        var clock: Int64?
        var push: Push?
        var pull: Pull?
        var heartbeat: Heartbeat?
        var relayed: [DeviceStatus] = []
        var conflicts: [HistoryEntry] = []
        var lease: Lease?
        var rekeyedFrom: NodeID?
        try reader.object("a sync request object") { (reader, key) throws(SyncError) in
            switch key {
            case "lease":
                var parsed = Lease(previous: nil, next: nil)
                try reader.object("a lease object") { (reader, key) throws(SyncError) in
                    switch key {
                    case "previous":
                        if !reader.null() { parsed.previous = try Self.lease(&reader) }
                    case "next":
                        if !reader.null() { parsed.next = try Self.lease(&reader) }
                    case "after":
                        if !reader.null() { parsed.after = try Self.lease(&reader) }
                    default: try reader.skip()
                    }
                }
                lease = parsed
            case "rekeyed_from": rekeyedFrom = try Self.node(&reader)
            case "v": version = try reader.int("the protocol version")
            case "node":
                // A push streamed as it decodes belongs to the node named before it.
                guard node == nil else { throw SyncError(.invalidBatch, "Invalid body: \"node\" appears twice.") }
                node = try Self.node(&reader)
            case "clock": clock = try reader.int("the client's clock (Unix ms)")
            case "push":
                // One push a request: chunks handed on are the push's records, and only those.
                guard push == nil else { throw SyncError(.invalidBatch, "Invalid body: \"push\" appears twice.") }
                var to: FeedCursor?
                var batch: ChangeBatch?
                try reader.object("a push object") { (reader, key) throws(SyncError) in
                    switch key {
                    case "to": to = try Self.cursor(&reader)
                    case "batch":
                        guard batch == nil else {
                            throw SyncError(.invalidBatch, "Invalid body: \"push.batch\" appears twice.")
                        }
                        let known = node
                        batch = try WireBatch.decode(
                            &reader, maxRecords: maxRecords, chunks: pushChunks.map { sink in { sink(known, $0) } })
                    default: try reader.skip()
                    }
                }
                guard let to, let batch else {
                    throw SyncError(.invalidBatch, "Invalid body: \"push\" needs \"to\" and \"batch\".")
                }
                push = Push(batch: batch, to: to)
            case "pull":
                var cursor: FeedCursor?
                var limit: Int64 = 1000
                var budget: Int64?
                try reader.object("a pull object") { (reader, key) throws(SyncError) in
                    switch key {
                    case "cursor": cursor = try Self.cursor(&reader)
                    case "limit": limit = try reader.int("a record limit")
                    case "budget": budget = try reader.int("a byte budget")
                    default: try reader.skip()
                    }
                }
                guard let cursor else { throw SyncError(.invalidBatch, "Invalid body: \"pull\" needs \"cursor\".") }
                guard limit >= 1, limit <= Int64(WireBatch.maxRecords) else {
                    throw SyncError(
                        .invalidBatch, "Invalid body: \"pull.limit\" must be 1…\(WireBatch.maxRecords), found \(limit)."
                    )
                }
                guard (budget ?? 1) >= 1, (budget ?? 1) <= 1 << 30 else {
                    throw SyncError(.invalidBatch, "Invalid body: \"pull.budget\" must be 1…\(1 << 30) bytes.")
                }
                pull = Pull(cursor: cursor, limit: Int(limit), budget: budget.map { Int($0) })
            case "heartbeat": heartbeat = try Heartbeat.decode(&reader)
            case "conflicts":
                try reader.array("an array of conflicts") { (reader) throws(SyncError) in
                    guard conflicts.count < HistoryEntry.maxRelayed else {
                        throw reader.error(expected: "at most \(HistoryEntry.maxRelayed) relayed conflicts")
                    }
                    conflicts.append(try HistoryEntry.decode(&reader))
                }
            case "relayed":
                try reader.array("an array of device statuses") { (reader) throws(SyncError) in
                    guard relayed.count < DeviceStatus.maxRelayed else {
                        throw reader.error(expected: "at most \(DeviceStatus.maxRelayed) relayed statuses")
                    }
                    relayed.append(try DeviceStatus.decode(&reader))
                }
            default: try reader.skip()
            }
        }
        try reader.end()
        guard version == SyncRequest.protocolVersion else {
            throw SyncError(
                .invalidBatch,
                "Invalid body: protocol version \(version.map(String.init) ?? "missing"); this server speaks \"v\": 1.")
        }
        guard let node, let clock else {
            throw SyncError(.invalidBatch, "Invalid body: a sync request needs \"node\" and \"clock\".")
        }
        self.init(node: node, clockMillis: clock, push: push, pull: pull, heartbeat: heartbeat)
        self.relayed = relayed
        self.conflicts = conflicts
        self.lease = lease
        self.rekeyedFrom = rekeyedFrom
    }

    /// A lease on the wire: 16 hexadecimal digits.
    static func leaseText(_ lease: UInt64) -> String {
        let hex = String(lease, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    static func lease(_ reader: inout JSONReader) throws(SyncError) -> UInt64 {
        let text = try reader.string("a lease (16 hex digits)")
        guard text.utf8.count == 16, let value = UInt64(text, radix: 16) else {
            throw SyncError(.invalidBatch, "Invalid body: '\(text.prefix(40))' is not a lease (16 hex digits).")
        }
        return value
    }

    static func node(_ reader: inout JSONReader) throws(SyncError) -> NodeID {
        let text = try reader.string("a node id (16 hex digits)")
        guard let node = NodeID(hex: text) else {
            throw SyncError(.invalidBatch, "Invalid body: '\(text.prefix(40))' is not a node id (16 hex digits).")
        }
        return node
    }

    static func cursor(_ reader: inout JSONReader) throws(SyncError) -> FeedCursor {
        let text = try reader.string("a feed cursor (\"120\" or \"100:120\")")
        guard let cursor = FeedCursor(text) else {
            throw SyncError(
                .invalidBatch,
                "Invalid body: '\(text.prefix(40))' is not a feed cursor (\"120\" or \"100:120\", each at most 2^53).")
        }
        return cursor
    }
}

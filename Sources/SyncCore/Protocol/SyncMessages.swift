/// What a client sends in one `POST /v1/sync`: its changes and where it is in the server's feed.
public struct SyncRequest: Sendable {
    public static let protocolVersion: Int64 = 1

    /// The client's node id (a device's or hub's; the server checks it against the token).
    public var node: NodeID
    /// The client's wall clock (corrected, Unix ms) when it sent the request.
    public var clockMillis: Int64
    public var push: Push?
    /// The request pushes at least one change (an empty push only acknowledges a position).
    public var pushesChanges: Bool { !(push?.batch.isEmpty ?? true) }
    public var pull: Pull?
    public var heartbeat: Heartbeat?
    /// A hub's devices' statuses, relayed upstream (accepted from hub tokens only, for their city).
    public var relayed: [DeviceStatus] = []
    /// Conflicts a hub saw, relayed upstream (hub and admin tokens only).
    public var conflicts: [HistoryEntry] = []
    /// The client's push lease with this server (see ``Lease``); nil from clients that predate it.
    public var lease: Lease?
    /// The node id this client had before a duplicated node id made it take `node` (token rebinding).
    public var rekeyedFrom: NodeID?

    public init(node: NodeID, clockMillis: Int64, push: Push? = nil, pull: Pull? = nil, heartbeat: Heartbeat? = nil) {
        self.node = node
        self.clockMillis = clockMillis
        self.push = push
        self.pull = pull
        self.heartbeat = heartbeat
    }

    /// A page of the client's own feed, and the client's feed position once it is applied.
    public struct Push: Sendable {
        public var batch: ChangeBatch
        public var to: FeedCursor
        public init(batch: ChangeBatch, to: FeedCursor) {
            self.batch = batch
            self.to = to
        }
    }

    /// A chain of random values, one link per push, that tells two copies of one node apart.
    ///
    /// The client keeps its current lease with each server and, before a push, persists a new one and
    /// sends both. The server keeps the current lease of each node and its last move: a request whose
    /// `previous` is neither the current lease nor (with the same `next`) the last move comes from another
    /// copy of the node (a device restored from a backup), refused with `duplicate-node`.
    ///
    /// A client may send a push while the one before it is unanswered (a window of two): that request's
    /// `previous` is the earlier one's `next`, and `after` is the earlier one's `previous`. A server whose
    /// current lease is still `after` has not applied the earlier request (it is still on its way, or it
    /// was lost): it refuses this one with `out-of-order`, applying and recording nothing, and the client
    /// sends it again once the earlier one is answered.
    public struct Lease: Sendable, Equatable {
        /// The lease the client holds; nil before its first lease with this server.
        public var previous: UInt64?
        /// The lease the client moves to with this request; nil when it does not move.
        public var next: UInt64?
        /// The lease held before `previous`, sent while the request moving from it to `previous` is
        /// unanswered; nil otherwise.
        public var after: UInt64?
        public init(previous: UInt64?, next: UInt64?, after: UInt64? = nil) {
            self.previous = previous
            self.next = next
            self.after = after
        }
    }

    /// Where the client is in the server's feed, and how much it takes per response.
    public struct Pull: Sendable {
        public var cursor: FeedCursor
        /// Records per response (the server may send fewer). Default 1,000.
        public var limit: Int
        /// Bytes per response before compression, roughly (the server halves the page until it fits).
        public var budget: Int?
        public init(cursor: FeedCursor, limit: Int = 1000, budget: Int? = nil) {
            self.cursor = cursor
            self.limit = limit
            self.budget = budget
        }
    }
}

/// How a client is doing, sent with each sync so that central can show stale devices.
public struct Heartbeat: Sendable, Equatable {
    public var app: String
    /// Records the server will still lack once it applied the push this heartbeat comes with: this node's
    /// own changes (a hub: also its devices'), never those it received from the server.
    public var backlog: Int64
    /// Age of the oldest of them, in ms.
    public var oldestPendingMillis: Int64?
    /// The last sync error, if the last sync failed.
    public var lastError: String?
    /// What the client adds to its own wall clock (learnt from servers), in ms. The server adds it to the
    /// offset it measures, so that the stale devices view shows how wrong the device's own clock is, not
    /// the (small) error left after FieldSync's correction. Default 0.
    public var clockCorrectionMillis: Int64 = 0

    public init(
        app: String, backlog: Int64 = 0, oldestPendingMillis: Int64? = nil, lastError: String? = nil,
        clockCorrectionMillis: Int64 = 0
    ) {
        self.app = app
        self.backlog = backlog
        self.oldestPendingMillis = oldestPendingMillis
        self.lastError = lastError
        self.clockCorrectionMillis = clockCorrectionMillis
    }
}

/// What the server answers: the push's acknowledgement and a page of its feed.
public struct SyncResponse: Sendable {
    /// The server's node id.
    public var node: NodeID
    /// The server's wall clock (Unix ms) when it answered.
    public var clockMillis: Int64
    public var pushed: PushAck?
    public var pull: PullPage?

    public init(node: NodeID, clockMillis: Int64, pushed: PushAck? = nil, pull: PullPage? = nil) {
        self.node = node
        self.clockMillis = clockMillis
        self.pushed = pushed
        self.pull = pull
    }

    /// The push was committed: the client may move its push position to `to`.
    public struct PushAck: Sendable, Equatable {
        public var to: FeedCursor
        /// Records the push carried, refused ones included.
        public var records: Int
        public var conflicts: Int
        /// Records the server did not apply, and why: the client sets them aside (never sent again as they
        /// are, never blocking the records after them).
        public var refused: [Refusal]
        public init(to: FeedCursor, records: Int, conflicts: Int, refused: [Refusal] = []) {
            self.to = to
            self.records = records
            self.conflicts = conflicts
            self.refused = refused
        }
    }

    public struct PullPage: Sendable {
        public var batch: ChangeBatch
        /// The client's next cursor, to save with the applied batch.
        public var cursor: FeedCursor
        /// Whether more changes remain after `cursor`.
        public var more: Bool
        /// Records that left the client's scope: it deletes its copies (see ``FeedPage/left``).
        public var left: [RecordRef]
        /// Of those, the ones the server's own server refused, and why: the client sets them aside.
        public var refused: [Refusal]
        public init(
            batch: ChangeBatch, cursor: FeedCursor, more: Bool, left: [RecordRef] = [], refused: [Refusal] = []
        ) {
            self.batch = batch
            self.cursor = cursor
            self.more = more
            self.left = left
            self.refused = refused
        }
    }
}

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
            case "node": node = try Self.node(&reader)
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
            WireBatch.encode(pull.batch, into: &writer)
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

extension DeviceStatus {
    func encode(into writer: inout JSONWriter) {
        writer.raw("{\"node\":")
        writer.string(node.description)
        writer.raw(",\"name\":")
        writer.string(name)
        writer.raw(",\"role\":")
        writer.string(role)
        writer.raw(",\"city\":")
        if let city { writer.string(city) } else { writer.raw("null") }
        writer.raw(",\"clock_offset_ms\":")
        writer.int(clockOffsetMillis)
        writer.raw(",\"last_seen\":")
        writer.int(lastSeenMillis)
        writer.raw(",\"heartbeat\":")
        heartbeat.encode(into: &writer)
        writer.byte(UInt8(ascii: "}"))
    }

    /// Its texts without U+0000 (`String.withoutNUL`): a status is kept and shown, at every store.
    static func decode(_ reader: inout JSONReader) throws(SyncError) -> DeviceStatus {
        var node: NodeID?
        var status = DeviceStatus(
            node: NodeID(rawValue: 1)!, name: "", role: "device", city: nil, heartbeat: Heartbeat(app: ""),
            clockOffsetMillis: 0, lastSeenMillis: 0)
        try reader.object("a device status object") { (reader, key) throws(SyncError) in
            switch key {
            case "node": node = try SyncRequest.node(&reader)
            case "name": status.name = String(try reader.string("a name").prefix(100)).withoutNUL
            case "role": status.role = String(try reader.string("a role").prefix(16)).withoutNUL
            case "city": status.city = reader.null() ? nil : String(try reader.string("a city").prefix(100)).withoutNUL
            case "clock_offset_ms": status.clockOffsetMillis = try reader.int("a clock offset", in: Self.offsetRange)
            case "last_seen": status.lastSeenMillis = try reader.int("a time (Unix ms)", in: Self.countRange)
            case "heartbeat": status.heartbeat = try Heartbeat.decode(&reader)
            default: try reader.skip()
            }
        }
        guard let node else { throw SyncError(.invalidBatch, "Invalid body: a relayed device status needs \"node\".") }
        status.node = node
        return status
    }
}

extension Heartbeat {
    func encode(into writer: inout JSONWriter) {
        writer.raw("{\"app\":")
        writer.string(app)
        writer.raw(",\"backlog\":")
        writer.int(backlog)
        if let oldestPendingMillis {
            writer.raw(",\"oldest_pending_ms\":")
            writer.int(oldestPendingMillis)
        }
        if let lastError {
            writer.raw(",\"last_error\":")
            writer.string(lastError)
        }
        if clockCorrectionMillis != 0 {
            writer.raw(",\"clock_correction_ms\":")
            writer.int(clockCorrectionMillis)
        }
        writer.byte(UInt8(ascii: "}"))
    }

    static func decode(_ reader: inout JSONReader) throws(SyncError) -> Heartbeat {
        var beat = Heartbeat(app: "")
        try reader.object("a heartbeat object") { (reader, key) throws(SyncError) in
            switch key {
            case "app": beat.app = String(try reader.string("the app version").prefix(64)).withoutNUL
            case "backlog": beat.backlog = try reader.int("the backlog size", in: DeviceStatus.countRange)
            case "oldest_pending_ms":
                beat.oldestPendingMillis =
                    reader.null() ? nil : try reader.int("a time (Unix ms)", in: DeviceStatus.countRange)
            case "last_error":
                beat.lastError =
                    reader.null() ? nil : String(try reader.string("an error message").prefix(500)).withoutNUL
            case "clock_correction_ms":
                beat.clockCorrectionMillis = try reader.int("a clock correction in ms", in: DeviceStatus.offsetRange)
            default: try reader.skip()
            }
        }
        return beat
    }
}

/// An RFC 9457 problem document (`application/problem+json`): how the server says what went wrong.
public struct Problem: Sendable, Equatable, Error {
    /// A stable URI per kind of problem: `urn:fieldsync:problem:<code>`.
    public var type: String
    public var title: String
    public var status: Int
    public var detail: String
    /// For clock problems: milliseconds to add to the client's clock and pending stamps.
    public var offsetMillis: Int64?
    /// For clock problems: the server's clock (Unix ms).
    public var serverClockMillis: Int64?
    /// For clock problems: what the server found off, the client's clock or its stamps (see
    /// ``ClockDriftCause``); nil from a server that predates it.
    public var cause: String?

    public init(
        code: String, title: String, status: Int, detail: String, offsetMillis: Int64? = nil,
        serverClockMillis: Int64? = nil, cause: String? = nil
    ) {
        self.type = Self.typePrefix + code
        self.title = title
        self.status = status
        self.detail = detail
        self.offsetMillis = offsetMillis
        self.serverClockMillis = serverClockMillis
        self.cause = cause
    }

    /// The problem document of a SyncCore error: its code and message, its offset, and for `.clockDrift`
    /// its cause and `serverClockMillis`. The status and title are the caller's (the server's one mapping).
    public init(_ error: SyncError, status: Int, title: String, serverClockMillis: Int64) {
        let drift = error.code == .clockDrift
        self.init(
            code: error.code.rawValue, title: title, status: status, detail: error.message,
            offsetMillis: error.clockOffsetMillis, serverClockMillis: drift ? serverClockMillis : nil,
            cause: drift ? error.clockDriftCause?.rawValue : nil)
    }

    /// ``cause`` as a value to branch on (one this version does not know compares equal to none of the
    /// known ones).
    public var clockDriftCause: ClockDriftCause? { cause.map(ClockDriftCause.init) }

    public static let typePrefix = "urn:fieldsync:problem:"

    /// The code at the end of `type` ("clock-drift"), or the whole type when it is not ours.
    public var code: String {
        type.hasPrefix(Self.typePrefix) ? String(type.dropFirst(Self.typePrefix.count)) : type
    }

    public func encoded() -> [UInt8] {
        var writer = JSONWriter(capacity: 256)
        writer.raw("{\"type\":")
        writer.string(type)
        writer.raw(",\"title\":")
        writer.string(title)
        writer.raw(",\"status\":")
        writer.int(Int64(status))
        writer.raw(",\"detail\":")
        writer.string(detail)
        if let cause {
            writer.raw(",\"cause\":")
            writer.string(cause)
        }
        if let offsetMillis {
            writer.raw(",\"offset_ms\":")
            writer.int(offsetMillis)
        }
        if let serverClockMillis {
            writer.raw(",\"server_clock\":")
            writer.int(serverClockMillis)
        }
        writer.byte(UInt8(ascii: "}"))
        return writer.bytes
    }

    /// Decodes a problem document; nil when the bytes are not one.
    public init?(decoding bytes: [UInt8]) {
        var reader = JSONReader(bytes)
        var problem = Problem(code: "", title: "", status: 0, detail: "")
        problem.type = ""
        do {
            try reader.object("a problem document") { (reader, key) throws(SyncError) in
                switch key {
                case "type": problem.type = try reader.string("a type")
                case "title": problem.title = try reader.string("a title")
                case "status": problem.status = Int(try reader.int("a status"))
                case "detail": problem.detail = try reader.string("a detail")
                case "cause": problem.cause = reader.null() ? nil : String(try reader.string("a cause").prefix(64))
                case "offset_ms": problem.offsetMillis = try reader.int("an offset")
                case "server_clock": problem.serverClockMillis = try reader.int("a clock")
                default: try reader.skip()
                }
            }
        } catch {
            return nil
        }
        guard !problem.type.isEmpty, problem.status > 0 else { return nil }
        self = problem
    }
}

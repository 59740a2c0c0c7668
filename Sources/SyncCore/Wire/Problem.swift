/// An RFC 9457 problem document (`application/problem+json`): how the server says what went wrong.
///
/// Its code is decoded once, here, into a ``SyncError/Code``: a client branches on `problem.code == .clockDrift`,
/// never on strings. The wire form (`type`) is kept as it came.
public struct Problem: Sendable, Equatable, Error {
    /// A stable URI per kind of problem: `urn:fieldsync:problem:<code>`. Setting it sets ``code``.
    public var type: String {
        didSet { code = Self.code(of: type) }
    }
    /// The code at the end of ``type`` (`.clockDrift` for `urn:fieldsync:problem:clock-drift`), or the whole
    /// type when it is not ours. A code this version does not know is kept as it came (codes are extensible).
    public private(set) var code: SyncError.Code
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
        code: SyncError.Code, title: String, status: Int, detail: String, offsetMillis: Int64? = nil,
        serverClockMillis: Int64? = nil, cause: String? = nil
    ) {
        self.type = Self.typePrefix + code.rawValue
        self.code = code
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
            code: error.code, title: title, status: status, detail: error.message,
            offsetMillis: error.clockOffsetMillis, serverClockMillis: drift ? serverClockMillis : nil,
            cause: drift ? error.clockDriftCause?.rawValue : nil)
    }

    /// ``cause`` as a value to branch on (one this version does not know compares equal to none of the
    /// known ones).
    public var clockDriftCause: ClockDriftCause? { cause.map(ClockDriftCause.init) }

    public static let typePrefix = "urn:fieldsync:problem:"

    /// The code a `type` names: what follows ``typePrefix``, or the whole type when it is not ours.
    private static func code(of type: String) -> SyncError.Code {
        SyncError.Code(type.hasPrefix(typePrefix) ? String(type.dropFirst(typePrefix.count)) : type)
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

/// A code written as the wire writes it (`"clock-drift"`), for tests and tools that read problem documents:
/// `problem.code == "wrong-node"`.
extension SyncError.Code: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self.init(value) }
}

/// The one error type of SyncCore: a code to branch on, a message a person can act on, and the cause.
///
/// The server turns it into a problem document and the CLI into an exit code; nothing in between does.
public struct SyncError: Error, Sendable, CustomStringConvertible {
    /// An extensible error code with a stable string value (used as the problem `type` suffix).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A stamp is too far ahead of this node's clock.
        public static let clockDrift = Code("clock-drift")
        /// A batch is malformed: wrong types, missing ids, inconsistent field lists.
        public static let invalidBatch = Code("invalid-batch")
        /// A collection this schema does not declare.
        public static let unknownCollection = Code("unknown-collection")
        /// A field this schema does not declare, in a local write.
        public static let unknownField = Code("unknown-field")
        /// A value that does not fit its field.
        public static let invalidValue = Code("invalid-value")
        /// No record with that id.
        public static let notFound = Code("not-found")
        /// A fact is written once and never edited.
        public static let immutableFact = Code("immutable-fact")
        /// The record was deleted.
        public static let deleted = Code("deleted")
        /// A record with that id already exists.
        public static let duplicate = Code("duplicate")
        /// A change outside the writer's scope.
        public static let outOfScope = Code("out-of-scope")
        /// The schema declaration is inconsistent.
        public static let schema = Code("schema")
        /// SQLite failed (I/O error, busy, permissions).
        public static let storage = Code("storage")
        /// The store cannot be reached for now (a PostgreSQL server restarting, a lost connection, a server
        /// too busy): nothing of the operation was stored; the same request succeeds once it is back.
        public static let unavailable = Code("unavailable")
        /// The disk is full, or a file reached its size limit: nothing of the operation was stored.
        public static let diskFull = Code("disk-full")
        /// A body or batch over a size limit.
        public static let tooLarge = Code("too-large")
        /// Two copies of one node id sync with a server (a device restored from another's backup).
        public static let duplicateNode = Code("duplicate-node")
        /// A fresh token named a node id that belongs to another device here: take a new node id.
        public static let nodeTaken = Code("node-taken")
        /// A token bound to one node was presented by another (each device enrols with its own token).
        public static let wrongNode = Code("wrong-node")
        /// A push sent while the one before it was unanswered reached a server that has not applied that
        /// one: nothing was applied; the client sends it again once the one before is answered.
        public static let outOfOrder = Code("out-of-order")
        /// A record names a record of another scope (a delivery of another city's family).
        public static let badReference = Code("bad-reference")
        /// The replica file is not a FieldSync replica or is damaged.
        public static let corruptReplica = Code("corrupt-replica")
    }

    public var code: Code
    public var message: String
    /// For `.clockDrift`: how far ahead of the receiver the offending stamp is, in milliseconds.
    public var clockOffsetMillis: Int64?
    /// For `.clockDrift`: what the receiver found off, the sender's clock or its stamps.
    public var clockDriftCause: ClockDriftCause?
    public var underlying: (any Error & Sendable)?
    /// For a local write a domain rule refused: the rule's stable name and arguments
    /// (``RecordProblem/reason``), for a front end that words it in its user's language.
    public var reason: String?
    public var reasonArguments: [String] = []

    public init(
        _ code: Code, _ message: String, clockOffsetMillis: Int64? = nil, clockDriftCause: ClockDriftCause? = nil,
        underlying: (any Error & Sendable)? = nil
    ) {
        self.code = code
        self.message = message
        self.clockOffsetMillis = clockOffsetMillis
        self.clockDriftCause = clockDriftCause
        self.underlying = underlying
    }

    public var description: String {
        if let underlying { return "\(message) (\(underlying))" }
        return message
    }
}

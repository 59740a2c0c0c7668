/// A domain's rules about what records may hold beyond their fields' types (an item the catalogue
/// lists, a campaign open at the delivery's date): the same rules at every node.
///
/// Checked on every record a node writes itself and on every record a server receives from a client,
/// before anything of that record is stored. Not on what a node pulls from its upstream: the node that
/// received it from a client checked it there, against data every later reader also holds.
public protocol RecordRules: Sendable {
    /// The collections these rules check (the others are never read into a ``CheckedRecord``).
    var collections: Set<String> { get }

    /// Why `record` cannot be stored, or nil when it can. Reads what it needs from `store` (the
    /// transaction's view: what this node holds, this transaction's writes included).
    func problem(with record: CheckedRecord, in store: any RecordSource) throws -> RecordProblem?
}

/// A record as it will be stored if the rules allow it.
public struct CheckedRecord: Sendable {
    public var collection: String
    public var id: String
    /// Its fields as they will be: for a profile, the stored values with this change merged in.
    public var values: [String: Value]
    /// The fields this change sets (every field of a fact or of a new profile record).
    public var changed: Set<String>
    /// Whether the record is new at this node.
    public var isNew: Bool
    /// Written by this node (a volunteer's entry), not received from a client.
    public var isLocal: Bool
    /// Who made the change, as the checking node knows it; nil when the caller did not say.
    public var writer: RecordWriter?

    public init(
        collection: String, id: String, values: [String: Value], changed: Set<String>, isNew: Bool, isLocal: Bool,
        writer: RecordWriter? = nil
    ) {
        self.collection = collection
        self.id = id
        self.values = values
        self.changed = changed
        self.isNew = isNew
        self.isLocal = isLocal
        self.writer = writer
    }

    public subscript(field: String) -> Value { values[field] ?? .null }
}

/// Who made a change a rule checks: the node whose stamp it carries, and what the checking node knows of
/// that node (rules that let only some nodes write a field, such as a voucher's holder, read it).
public struct RecordWriter: Sendable, Hashable {
    public enum Standing: Sendable, Hashable {
        /// This node's own write. The node cannot tell who its operator is (central's file has no token):
        /// its server checks the write again when it arrives there.
        case local
        /// The client of the push, with its token's role (nil when the caller did not say: take it for a
        /// device's).
        case client(Principal.Role?)
        /// Another node's write that the client relays (a hub relaying its devices').
        case relayed
    }

    /// The node of the change's stamp (a profile's: of the newest register it sets).
    public var node: NodeID
    public var standing: Standing

    public init(node: NodeID, standing: Standing) {
        self.node = node
        self.standing = standing
    }
}

/// Why a record breaks a domain rule: the field at fault and a sentence for the volunteer and the admin.
public struct RecordProblem: Sendable, Hashable, Error {
    public var code: SyncError.Code
    public var field: String?
    public var detail: String
    /// The rule broken, as a stable name ("campaign-closed"), and its arguments in the order the rule
    /// documents: a front end words the problem in its user's language from these, not from `detail`
    /// (nil: only `detail` says it).
    public var reason: String?
    public var arguments: [String] = []

    public init(_ code: SyncError.Code = .invalidValue, field: String?, _ detail: String) {
        self.code = code
        self.field = field
        self.detail = detail
    }

    /// This problem with its stable ``reason`` and arguments.
    public func because(_ reason: String, _ arguments: String...) -> RecordProblem {
        var problem = self
        problem.reason = reason
        problem.arguments = arguments
        return problem
    }
}

/// Read access to the records a node holds, for rules and reports that must not know the store.
public protocol RecordSource {
    /// A record's fields, or nil when it is absent or deleted.
    func record(_ collection: String, id: String) throws -> [String: Value]?
    /// The records of a collection that are not deleted, up to `limit`, in id order.
    func records(_ collection: String, limit: Int) throws -> [(id: String, values: [String: Value])]
}

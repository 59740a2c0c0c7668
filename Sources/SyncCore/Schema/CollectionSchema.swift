/// How a collection merges.
public enum CollectionKind: String, Sendable, Codable {
    /// Written once, never edited; merge is set union (deliveries, voids).
    case fact
    /// Each field is a last-writer-wins register; deletes are tombstones (families, rules).
    case profile
}

/// The declaration of one collection: its name, kind, typed fields and scope field.
///
/// The engine derives the SQLite table from it: one column per field, and bookkeeping columns whose
/// names start with `_` (`_seq`, `_stamps` or `_hlc`/`_node`, `_extra`).
public struct CollectionSchema: Sendable, Hashable {
    public var name: String
    public var kind: CollectionKind
    public var fields: [Field]
    /// The field that places a record in a scope (a city); nil for collections every node receives.
    public var scopeField: String?

    /// Field positions by name.
    public let fieldIndex: [String: Int]
    /// Bit `r` set for each required field.
    let requiredMask: UInt64

    public init(_ name: String, kind: CollectionKind, scope scopeField: String? = nil, fields: [Field]) {
        self.name = name
        self.kind = kind
        self.fields = fields
        self.scopeField = scopeField
        self.fieldIndex = Dictionary(fields.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.requiredMask = fields.prefix(64).enumerated().reduce(0) {
            $0 | ($1.element.required ? 1 << UInt64($1.offset) : 0)
        }
    }

    public func field(named name: String) -> Field? {
        fieldIndex[name].map { fields[$0] }
    }

    /// Checks names (SQL identifiers, no reserved names or suffixes, no duplicates) and the scope field.
    func validate() throws(SyncError) {
        func checkIdentifier(_ name: String, _ what: String) throws(SyncError) {
            let allowed = name.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 }
            guard !name.isEmpty, allowed, let first = name.utf8.first, first >= 97, first <= 122 else {
                throw SyncError(
                    .schema, "\(what) '\(name)' must be lowercase letters, digits and '_', starting with a letter.")
            }
        }
        try checkIdentifier(name, "Collection name")
        guard fields.count < 63 else {
            throw SyncError(.schema, "Collection '\(name)' declares \(fields.count) fields; at most 62 are supported.")
        }
        guard fieldIndex.count == fields.count else {
            throw SyncError(.schema, "Collection '\(name)' declares a field twice.")
        }
        for field in fields {
            try checkIdentifier(field.name, "Field name")
            if field.name == "id" {
                throw SyncError(.schema, "Field '\(name).id' uses a reserved name.")
            }
        }
        if let scopeField, field(named: scopeField) == nil {
            throw SyncError(
                .schema, "Collection '\(name)' names scope field '\(scopeField)', which it does not declare.")
        }
    }
}

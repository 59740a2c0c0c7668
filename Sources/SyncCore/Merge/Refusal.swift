/// A record a node would not apply, and why: a refusal about data (DESIGN.md §8).
///
/// Such a refusal covers the one record: the rest of its batch is applied, the record is named in the
/// answer, and both ends keep it aside for the admin, so no node's sync stays blocked by it. Refusals
/// about identity (token, node, lease) refuse the whole request instead, and are errors, not refusals.
public struct Refusal: Sendable, Hashable {
    public var collection: String
    public var id: String
    /// `.outOfScope` (another city's record, or one that moved away), `.badReference` (it names a record
    /// of another scope), `.invalidValue` (a value the schema does not allow, or a required field missing).
    public var code: SyncError.Code
    /// The field at fault, when one is.
    public var field: String?
    /// A sentence for the admin and the volunteer.
    public var detail: String
    /// The server holds this record in the sender's scope: only this change of it was refused, so the
    /// sender keeps its copy (and a copy of the refused change aside) instead of dropping the record.
    public var stays: Bool

    public init(
        collection: String, id: String, code: SyncError.Code, field: String? = nil, detail: String,
        stays: Bool = false
    ) {
        self.collection = collection
        self.id = id
        self.code = code
        self.field = field
        self.detail = detail
        self.stays = stays
    }

    /// The most refusals one answer names; past it, the rest of the batch is refused whole (a client that
    /// sends that many bad records is broken or hostile).
    public static let maxPerAnswer = 1000

    /// The most refused records a server keeps open from one client: past it, that client's pushes that
    /// refuse more are refused whole (`too-large`) until the admin deals with them.
    public static let maxOpenPerSource = 10_000
}

/// A record's refusal, thrown inside a merge before anything of that record was written, and caught by
/// the merge loop, which records it and goes on with the next record.
package struct RefusedRecord: Error {
    package var refusal: Refusal

    package init(refusal: Refusal) { self.refusal = refusal }
}

/// The refusals a store finds while it merges a client's record, worded once for every store.
extension Refusal {
    /// A record stored here in another scope than the sender's (another city's, or one that moved away).
    package static func storedElsewhere(
        collection: String, id: String, scopeField: String?, value: Value, scope: String
    ) -> Refusal {
        Refusal(
            collection: collection, id: id, code: .outOfScope, field: scopeField,
            detail: "Record \(id) of '\(collection)' belongs to \(scopeField ?? "scope") '\(value)' here, outside this "
                + "token's scope ('\(scope)').")
    }

    /// A new record that carries no scope: its scope cannot be checked.
    package static func noScope(collection: String, id: String, scopeField: String?) -> Refusal {
        Refusal(
            collection: collection, id: id, code: .outOfScope, field: scopeField,
            detail: "Record \(id) of '\(collection)' is new here and carries no \(scopeField ?? "scope"): its scope "
                + "cannot be checked.")
    }

    /// A new profile record without one of its required fields.
    package static func missingField(collection: String, id: String, field: String) -> Refusal {
        Refusal(
            collection: collection, id: id, code: .invalidValue, field: field,
            detail: "Record \(id) of '\(collection)' is new here and lacks its required field '\(field)'.")
    }

    /// A reference to a record stored here in another scope than the record's own.
    package static func crossScopeReference(
        collection: String, id: String, field: String, target: (collection: String, id: String, scope: Value),
        scope: Value?, scopeField: String
    ) -> Refusal {
        Refusal(
            collection: collection, id: id, code: .badReference, field: field,
            detail: "Record \(id) of '\(collection)' names \(target.collection) \(target.id) in '\(field)', which "
                + "belongs to \(target.scope.kindDescription) here, not to \((scope ?? .null).kindDescription): "
                + "references stay within one \(scopeField).")
    }
}

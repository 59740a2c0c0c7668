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
struct RefusedRecord: Error {
    var refusal: Refusal
}

extension Refusal {
    /// `,"refused":[…]` when `refusals` is not empty (an answer without refusals carries no key).
    package static func encode(_ refusals: [Refusal], into writer: inout JSONWriter) {
        guard !refusals.isEmpty else { return }
        writer.raw(",\"refused\":[")
        for (index, refusal) in refusals.enumerated() {
            if index > 0 { writer.byte(UInt8(ascii: ",")) }
            refusal.encode(into: &writer)
        }
        writer.byte(UInt8(ascii: "]"))
    }

    /// An array of at most `max` refused records.
    package static func decodeList(_ reader: inout JSONReader, max: Int = maxPerAnswer) throws(SyncError) -> [Refusal] {
        var refusals: [Refusal] = []
        try reader.array("an array of refused records") { (reader) throws(SyncError) in
            guard refusals.count < max else {
                throw reader.error(expected: "at most \(max) refused records")
            }
            refusals.append(try Refusal.decode(&reader))
        }
        return refusals
    }

    /// `{"collection":…,"id":…,"code":…,"field":…,"detail":…}` (`field` only when there is one).
    package func encode(into writer: inout JSONWriter) {
        writer.raw("{\"collection\":")
        writer.string(collection)
        writer.raw(",\"id\":")
        writer.string(id)
        writer.raw(",\"code\":")
        writer.string(code.rawValue)
        if let field {
            writer.raw(",\"field\":")
            writer.string(field)
        }
        writer.raw(",\"detail\":")
        writer.string(detail)
        if stays { writer.raw(",\"stays\":true") }
        writer.byte(UInt8(ascii: "}"))
    }

    package static func decode(_ reader: inout JSONReader) throws(SyncError) -> Refusal {
        var refusal = Refusal(collection: "", id: "", code: .invalidValue, detail: "")
        try reader.object("a refused record") { (reader, key) throws(SyncError) in
            switch key {
            case "collection": refusal.collection = String(try reader.string("a collection name").prefix(64))
            case "id": refusal.id = String(try reader.string("a record id").prefix(64))
            case "code": refusal.code = SyncError.Code(String(try reader.string("a refusal code").prefix(64)))
            case "field": refusal.field = reader.null() ? nil : String(try reader.string("a field name").prefix(64))
            case "detail": refusal.detail = String(try reader.string("a reason").prefix(1000))
            case "stays": refusal.stays = try reader.bool("true or false")
            default: try reader.skip()
            }
        }
        guard !refusal.collection.isEmpty, RecordRef.isValidID(refusal.id) else {
            throw SyncError(.invalidBatch, "Invalid body: a refused record needs \"collection\" and a valid \"id\".")
        }
        return refusal
    }
}

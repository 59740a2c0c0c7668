public import SyncCore

/// The admin's writes to the programme: the catalogue, campaigns, associations, rules, merges. Each goes
/// through the same rules as every record (``FieldSyncRules``), so a bad one is refused here as it
/// would be at any node.
extension ReplicaTransaction {
    /// Adds an item to the catalogue, or changes it. The first item the admin sets brings the built-in
    /// items into the catalogue as records (the admin may then rename or retire them): deliveries of
    /// them stay valid.
    public func setItem(_ item: Item, catalogueIsEmpty: Bool) throws {
        if catalogueIsEmpty {
            for builtIn in Item.builtIn where builtIn.code != item.code {
                try upsert("items", id: builtIn.code, values: builtIn.values)
            }
        }
        try upsert("items", id: item.code, values: item.values)
    }

    /// Adds a campaign, or changes it.
    public func setCampaign(_ campaign: Campaign) throws {
        try upsert("campaigns", id: campaign.code, values: campaign.values)
    }

    /// Adds an association working in `city`; returns its id.
    @discardableResult
    public func addAssociation(name: String, city: String, id: String? = nil) throws -> String {
        try create("associations", id: id, values: ["name": .text(name), "city": .text(city)])
    }

    /// Sets the rule for an item (in one campaign, or in each campaign when `campaign` is nil); returns its id.
    @discardableResult
    public func setRule(item: String, campaign: String?, max: Int, windowDays: Int?) throws -> String {
        // One rule per item and campaign: its id says which.
        let id = "rule-\(item)-\(campaign ?? "each")"
        try upsert(
            "entitlements", id: id,
            values: [
                "item": .text(item), "campaign": campaign.map(Value.text) ?? .null,
                "max_per_family": .integer(Int64(max)), "window_days": windowDays.map { .integer(Int64($0)) } ?? .null,
            ])
        return id
    }

    /// Notes that two families of `city` are not the same: duplicate matching never pairs them again.
    public func markDistinct(_ family: String, _ other: String, city: String, note: String? = nil) throws {
        let (a, b) = family < other ? (family, other) : (other, family)
        try upsert(
            "distinct_families",
            id: a.utf8.count + b.utf8.count < 64 ? "\(a)+\(b)" : "d-\(a.prefix(30))\(b.prefix(30))",
            values: [
                "city": .text(city), "family": .text(a), "other": .text(b), "note": note.map(Value.text) ?? .null,
            ])
    }

    private func upsert(_ collection: String, id: String, values: [String: Value]) throws {
        do {
            try update(collection, id: id, values: values)
        } catch let error as SyncError where error.code == .notFound {
            try create(collection, id: id, values: values)
        }
    }
}

extension Replica {
    /// Adds an item to the catalogue, or changes it (see ``ReplicaTransaction/setItem(_:catalogueIsEmpty:)``).
    public func setItem(_ item: Item) throws {
        let empty = try records.records("items", limit: 1).isEmpty
        try write { tx in try tx.setItem(item, catalogueIsEmpty: empty) }
    }
}

/// Marking a family as a duplicate of another: its deliveries then count for the one kept, everywhere.
public enum FamilyMerge {
    /// Which family `duplicate` is merged into, given both records (with their `id`) and the merges a node
    /// holds: the kept family's group (a family merged into one already merged goes to the end of the
    /// chain). Throws a sentence when the merge makes no sense.
    public static func target(
        duplicate: [String: Value], keep: [String: Value], groups: FamilyGroups
    ) throws(RecordProblem) -> String {
        guard case .text(let dupID) = duplicate["id"], case .text(let keepID) = keep["id"] else {
            throw RecordProblem(field: nil, "Both families need an id.")
        }
        let root = groups.root(keepID)
        guard groups.root(dupID) != root else {
            throw RecordProblem(
                field: "merged_into",
                dupID == keepID ? "A family cannot be merged into itself." : "\(dupID) already counts as \(root).")
        }
        guard duplicate["city"] == keep["city"] else {
            throw RecordProblem(
                .badReference, field: "merged_into",
                "The two families are in different cities (\(duplicate["city"]?.textValue ?? "?"), "
                    + "\(keep["city"]?.textValue ?? "?")).")
        }
        return root
    }
}

extension FamilyMerge {
    /// The pairs of families the admin marked as different (`distinct_families`), as unordered pairs.
    public static func distinctPairs(_ store: any RecordSource) throws -> Set<Set<String>> {
        Set(
            try store.records("distinct_families", limit: 1_000_000).compactMap { row -> Set<String>? in
                guard let a = row.values["family"]?.textValue, let b = row.values["other"]?.textValue else {
                    return nil
                }
                return [a, b]
            })
    }
}

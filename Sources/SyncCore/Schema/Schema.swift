/// The set of collections a replica holds. Declared in Swift; the replica derives its tables from it.
public struct Schema: Sendable {
    public let collections: [CollectionSchema]
    private let byName: [String: Int]
    /// The domain's rules on values (see ``RecordRules``); nil for a schema that has none.
    public let rules: (any RecordRules)?

    public init(_ collections: [CollectionSchema], rules: (any RecordRules)? = nil) throws(SyncError) {
        for collection in collections { try collection.validate() }
        var byName: [String: Int] = [:]
        for (index, collection) in collections.enumerated() {
            guard byName.updateValue(index, forKey: collection.name) == nil else {
                throw SyncError(.schema, "Collection '\(collection.name)' is declared twice.")
            }
        }
        self.collections = collections
        self.byName = byName
        self.rules = rules
    }

    public subscript(name: String) -> CollectionSchema? {
        byName[name].map { collections[$0] }
    }

    func index(of name: String) -> Int? { byName[name] }
}

public import SyncCore

extension FamilyCandidate {
    /// A family as a `families` record holds it (the fields of `Schema.fieldSync`, with its "id"); nil without an
    /// id. Missing or mistyped fields are left out of the comparison, never guessed.
    public init?(record: [String: Value]) {
        guard let id = record["id"]?.textValue else { return nil }
        let text = { (field: String) -> String? in
            record[field]?.textValue.flatMap { $0.isEmpty ? nil : $0 }
        }
        self.init(
            id: id, city: text("city") ?? "", reference: text("reference") ?? "", headName: text("head_name") ?? "",
            phone: text("phone"), district: text("district"), address: text("address"),
            householdSize: record["household_size"]?.integerValue.flatMap { Int(exactly: $0) },
            association: text("association"))
    }
}

public import SyncCore

/// The items a delivery can hand out.
public enum DeliveryItem: String, Sendable, CaseIterable, Codable {
    case foodPack = "food_pack"
    case connectivityPack = "connectivity_pack"
    case internetRecharge = "internet_recharge"

    /// Every item's code, as a record carries it.
    public static let codes = Set(allCases.map(\.rawValue))
}

extension Schema {
    /// The first FieldSync domain (DESIGN.md §6): associations, families, deliveries, voids, entitlements.
    public static let fieldSync: Schema = try! Schema([
        CollectionSchema(
            "associations", kind: .profile, scope: "city",
            fields: [
                Field("name", .text, required: true),
                Field("city", .text, required: true),
            ]),
        CollectionSchema(
            "families", kind: .profile, scope: "city",
            fields: [
                Field("city", .text, required: true),
                Field("association", .reference, references: "associations"),
                Field("reference", .text, required: true),
                Field("head_name", .text, required: true),
                Field("phone", .text),
                Field("household_size", .integer, range: 1...100),
                Field("district", .text),
                Field("address", .text),
                Field("notes", .text),
                Field("merged_into", .reference, references: "families"),
            ]),
        CollectionSchema(
            "deliveries", kind: .fact, scope: "city",
            fields: [
                Field("city", .text, required: true),
                Field("family", .reference, required: true, references: "families"),
                Field("item", .text, required: true, allowed: DeliveryItem.codes),
                Field("quantity", .integer, required: true, range: 1...1000),
                Field("campaign", .text),
                Field("delivered_at", .timestamp, required: true),
                Field("volunteer", .text, required: true),
                Field("note", .text),
            ]),
        CollectionSchema(
            "delivery_voids", kind: .fact, scope: "city",
            fields: [
                Field("city", .text, required: true),
                Field("delivery", .reference, required: true, references: "deliveries"),
                Field("reason", .text, required: true),
                Field("volunteer", .text, required: true),
                Field("voided_at", .timestamp, required: true),
            ]),
        CollectionSchema(
            "entitlements", kind: .profile,
            fields: [
                Field("item", .text, required: true, allowed: DeliveryItem.codes),
                Field("campaign", .text),
                Field("max_per_family", .integer, required: true, range: 0...1000),
                Field("window_days", .integer, range: 1...3650),
            ]),
    ])
}

public import SyncCore

extension Schema {
    /// The FieldSync delivery domain (DESIGN.md §6), with its rules (``FieldSyncRules``): the same at every
    /// node. New collections go at the end (a replica's tables follow this order; older replicas gain
    /// the new tables and columns when they open).
    public static let fieldSync: Schema = try! Schema(
        [
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
                    Field("item", .text, required: true),
                    Field("quantity", .integer, required: true, range: 1...1000),
                    Field("campaign", .text),
                    Field("delivered_at", .timestamp, required: true),
                    Field("volunteer", .text, required: true),
                    Field("note", .text),
                    Field("association", .reference, references: "associations"),
                    // The recharge code this delivery handed out (its id is then `rc-` and the code).
                    Field("voucher", .text),
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
                    Field("item", .text, required: true),
                    Field("campaign", .text),
                    Field("max_per_family", .integer, required: true, range: 0...1000),
                    Field("window_days", .integer, range: 1...3650),
                ]),
            // The catalogue: an item's id is its code (`food_pack`), what deliveries name.
            CollectionSchema(
                "items", kind: .profile,
                fields: [
                    Field("name_fr", .text, required: true),
                    Field("name_ar", .text),
                    Field("name_en", .text),
                    Field("unit", .text),
                    Field("active", .bool),
                ]),
            // A campaign's id is its code (`phase-1`), what deliveries name. `items` lists what it gives
            // and how many per family: "food_pack:1,internet_recharge:3" (an item without a count: no
            // limit per family). `name_fr` and `name_ar` (optional, added in 0018) name it in the volunteer's
            // language; `name` is the name in any other.
            CollectionSchema(
                "campaigns", kind: .profile,
                fields: [
                    Field("name", .text, required: true),
                    Field("name_fr", .text),
                    Field("name_ar", .text),
                    Field("phase", .integer, range: 1...99),
                    Field("starts_at", .timestamp, required: true),
                    Field("ends_at", .timestamp, required: true),
                    Field("items", .text, required: true),
                ]),
            // Two families the admin found are not the same (duplicate matching never pairs them again).
            // The id is the two family ids, sorted, joined by '+'. The admin's alone (no scope: a device
            // token cannot write it, so a volunteer cannot hide a family registered twice); every node
            // receives the pairs of ids.
            CollectionSchema(
                "distinct_families", kind: .profile,
                fields: [
                    Field("city", .text, required: true),
                    Field("family", .reference, required: true, references: "families"),
                    Field("other", .reference, required: true, references: "families"),
                    Field("note", .text),
                ]),
            // Internet recharge codes (decision record 0017): the id is the code; held by one node at a
            // time: `holder` is "central", "hub" (its city's) or a device's node id; `city` is the holder's
            // (none in central's pool, so that only the admin's replicas hold the pool).
            CollectionSchema(
                "vouchers", kind: .profile, scope: "city",
                fields: [
                    Field("city", .text),
                    Field("holder", .text, required: true),
                    Field("operator", .text),
                    Field("amount", .integer, range: 0...1_000_000),
                    Field("reclaimed_from", .text),
                ]),
            // A hub's stock of an item (decision record 0020): packs received from the warehouse, sent back,
            // lost or damaged, or corrected after a count (`quantity` signed, for `corrected` only). A fact,
            // written by the hub's operator or the admin; on hand = the moves' sum − the city's deliveries.
            CollectionSchema(
                "stock_moves", kind: .fact, scope: "city",
                fields: [
                    Field("city", .text, required: true),
                    Field("item", .text, required: true),
                    Field("kind", .text, required: true),
                    Field("quantity", .integer, required: true, range: -1_000_000...1_000_000),
                    Field("moved_at", .timestamp, required: true),
                    Field("operator", .text, required: true),
                    Field("note", .text),
                ]),
        ], rules: FieldSyncRules())
}

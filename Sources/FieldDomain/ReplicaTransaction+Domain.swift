public import SyncCore

/// A delivery to log: a fact, never edited (a mistake is voided by a new fact).
public struct NewDelivery: Sendable, Hashable {
    public var city: String
    public var family: String
    /// An item code of the catalogue.
    public var item: String
    public var quantity: Int
    public var campaign: String?
    /// When it was handed over, by the device's clock (Unix ms).
    public var deliveredAt: UInt64
    public var volunteer: String
    public var note: String?
    /// The volunteer's association.
    public var association: String?

    public init(
        city: String, family: String, item: String, quantity: Int = 1, campaign: String? = nil,
        deliveredAt: UInt64, volunteer: String, note: String? = nil, association: String? = nil
    ) {
        self.city = city
        self.family = family
        self.association = association
        self.item = item
        self.quantity = quantity
        self.campaign = campaign
        self.deliveredAt = deliveredAt
        self.volunteer = volunteer
        self.note = note
    }

    public init(
        city: String, family: String, item: DeliveryItem, quantity: Int = 1, campaign: String? = nil,
        deliveredAt: UInt64, volunteer: String, note: String? = nil
    ) {
        self.init(
            city: city, family: family, item: item.rawValue, quantity: quantity, campaign: campaign,
            deliveredAt: deliveredAt, volunteer: volunteer, note: note)
    }
}

/// The codes of the built-in items (``Item/builtIn``), for tests and benchmarks.
public enum DeliveryItem: String, Sendable, CaseIterable {
    case foodPack = "food_pack"
    case connectivityPack = "connectivity_pack"
    case internetRecharge = "internet_recharge"
}

/// A family to register.
public struct NewFamily: Sendable, Hashable {
    public var city: String
    public var reference: String
    public var headName: String
    public var association: String?
    public var phone: String?
    public var householdSize: Int?
    public var district: String?
    public var address: String?
    public var notes: String?

    public init(
        city: String, reference: String, headName: String, association: String? = nil, phone: String? = nil,
        householdSize: Int? = nil, district: String? = nil, address: String? = nil, notes: String? = nil
    ) {
        self.city = city
        self.reference = reference
        self.headName = headName
        self.association = association
        self.phone = phone
        self.householdSize = householdSize
        self.district = district
        self.address = address
        self.notes = notes
    }
}

extension ReplicaTransaction {
    /// Logs a delivery and returns its id. Throws `.invalidValue` for a quantity below 1.
    @discardableResult
    public func logDelivery(_ delivery: NewDelivery) throws -> String {
        guard delivery.quantity > 0 else {
            throw SyncError(.invalidValue, "A delivery's quantity must be at least 1 (got \(delivery.quantity)).")
        }
        var values: [String: Value] = [
            "city": .text(delivery.city), "family": .text(delivery.family), "item": .text(delivery.item),
            "quantity": .integer(Int64(delivery.quantity)),
            "delivered_at": .integer(Int64(clamping: delivery.deliveredAt)),
            "volunteer": .text(delivery.volunteer),
        ]
        values["campaign"] = delivery.campaign.map(Value.text)
        values["note"] = delivery.note.map(Value.text)
        values["association"] = delivery.association.map(Value.text)
        return try insert("deliveries", values: values)
    }

    /// Voids a delivery (a new fact naming it and why) and returns the void's id.
    @discardableResult
    public func voidDelivery(
        _ deliveryID: String, city: String, reason: String, volunteer: String, at millis: UInt64
    )
        throws -> String
    {
        guard !reason.isEmpty else { throw SyncError(.invalidValue, "A void needs a reason.") }
        return try insert(
            "delivery_voids",
            values: [
                "city": .text(city), "delivery": .text(deliveryID), "reason": .text(reason),
                "volunteer": .text(volunteer), "voided_at": .integer(Int64(clamping: millis)),
            ])
    }

    /// Registers a family and returns its id.
    @discardableResult
    public func addFamily(_ family: NewFamily) throws -> String {
        if let size = family.householdSize, size < 1 {
            throw SyncError(.invalidValue, "A household has at least 1 person (got \(size)).")
        }
        var values: [String: Value] = [
            "city": .text(family.city), "reference": .text(family.reference), "head_name": .text(family.headName),
        ]
        values["association"] = family.association.map(Value.text)
        values["phone"] = family.phone.map(Value.text)
        values["household_size"] = family.householdSize.map { .integer(Int64($0)) }
        values["district"] = family.district.map(Value.text)
        values["address"] = family.address.map(Value.text)
        values["notes"] = family.notes.map(Value.text)
        return try create("families", values: values)
    }

    /// Edits fields of a family (each field merges on its own).
    public func editFamily(_ id: String, _ values: [String: Value]) throws {
        try update("families", id: id, values: values)
    }

    /// Deletes a family (a tombstone).
    public func deleteFamily(_ id: String) throws {
        try delete("families", id: id)
    }
}

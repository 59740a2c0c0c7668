public import SyncCore

/// Internet recharge codes (decision record 0017): each code is a `vouchers` record whose id is the code,
/// held by exactly one node at a time (`holder`); only its holder or the admin hands it on, and a device
/// hands a family a code it holds. A hand-out is the recharge delivery itself, whose id is
/// ``deliveryID(for:)``: one delivery per code, at every node, by construction.
public enum Vouchers {
    /// The item a voucher hands out.
    public static let item = DeliveryItem.internetRecharge.rawValue
    /// A recharge delivery's id is this prefix and its code.
    public static let deliveryPrefix = "rc-"

    /// The id of the delivery that hands out `code`: one per code.
    public static func deliveryID(for code: String) -> String { deliveryPrefix + code }

    /// The fields a move of a code writes (holder to holder, city to city, the admin's reclaim).
    public static let custodyFields: Set<String> = ["holder", "city", "reclaimed_from"]

    /// Whether `code` can be a recharge code: 4 to 64 ASCII letters, digits or '-' (what a card prints;
    /// the delivery's id, `rc-` and the code, stays a valid record id).
    public static func isValidCode(_ code: String) -> Bool {
        (4...64).contains(code.utf8.count)
            && code.utf8.allSatisfy { byte in
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                    || byte == 0x2D
            }
    }

    /// Who holds a code: central (the admin's pool), a city's hub, or a device (its node id).
    public enum Holder: Hashable, Sendable, CustomStringConvertible {
        case central
        case hub
        case device(NodeID)

        public init?(_ value: Value) {
            switch value.textValue {
            case "central": self = .central
            case "hub": self = .hub
            case let text?: guard let node = NodeID(hex: text) else { return nil }; self = .device(node)
            case nil: return nil
            }
        }

        public var value: Value {
            switch self {
            case .central: .text("central")
            case .hub: .text("hub")
            case .device(let node): .text(node.description)
            }
        }

        public var description: String {
            switch self {
            case .central: "central"
            case .hub: "the hub"
            case .device(let node): "device \(node)"
            }
        }
    }

    /// A code as a node holds it.
    public struct Voucher: Sendable, Hashable {
        public var code: String
        /// The city of its holder; nil in central's pool.
        public var city: String?
        public var holder: Holder?
        public var operatorName: String?
        public var amount: Int?
        /// The node the admin took it back from (its later hand-outs are refused with this as evidence).
        public var reclaimedFrom: String?

        public init(code: String, _ values: [String: Value]) {
            self.code = code
            city = values["city"]?.textValue
            holder = values["holder"].flatMap(Holder.init)
            operatorName = values["operator"]?.textValue
            amount = values["amount"]?.integerValue.map { Int(clamping: $0) }
            reclaimedFrom = values["reclaimed_from"]?.textValue
        }
    }

    /// Every code this replica holds, in code order.
    public static func all(_ store: any RecordSource) throws -> [Voucher] {
        try store.records("vouchers", limit: 1_000_000).map { Voucher(code: $0.id, $0.values) }
    }

    /// The codes held by `holder` (in `city`, for a hub) that no delivery here hands out, in code order.
    public static func unused(_ store: any RecordSource, holder: Holder, city: String?) throws -> [Voucher] {
        try all(store).filter { voucher in
            voucher.holder == holder && (holder != .hub || voucher.city == city)
        }.filter { try store.record("deliveries", id: deliveryID(for: $0.code)) == nil }
    }
}

extension ReplicaTransaction {
    /// Adds a code to central's pool (the admin's import); a code already here is left as it is. Returns
    /// whether it was new.
    @discardableResult
    public func importVoucher(_ code: String, operatorName: String?, amount: Int?) throws -> Bool {
        guard Vouchers.isValidCode(code) else {
            throw SyncError(
                .invalidValue, "'\(code.prefix(70))' is not a recharge code: 4 to 64 letters, digits or '-'.")
        }
        var values: [String: Value] = ["holder": Vouchers.Holder.central.value]
        values["operator"] = operatorName.map(Value.text)
        values["amount"] = amount.map { .integer(Int64($0)) }
        do {
            _ = try create("vouchers", id: code, values: values)
            return true
        } catch let error as SyncError where error.code == .duplicate {
            return false
        }
    }

    /// Hands `code` on to `holder` (in `city`: the admin's allotment to a city, or nil to keep it). The
    /// rules check that this node may (``FieldSyncRules``); its server checks again.
    public func moveVoucher(
        _ code: String, to holder: Vouchers.Holder, city: String? = nil, reclaimedFrom: String? = nil
    )
        throws
    {
        var values: [String: Value] = ["holder": holder.value]
        if let city { values["city"] = .text(city) }
        if let reclaimedFrom { values["reclaimed_from"] = .text(reclaimedFrom) }
        try update("vouchers", id: code, values: values)
    }

    /// The admin takes a code back into central's pool (a lost phone): it leaves its city, and the
    /// holder's later hand-outs of it are refused.
    public func reclaimVoucher(_ code: String, from holder: Vouchers.Holder) throws {
        try update(
            "vouchers", id: code,
            values: ["holder": Vouchers.Holder.central.value, "city": .null, "reclaimed_from": holder.value])
    }

    /// Logs the hand-out of `code` to a family: a recharge delivery whose id is the code's. Returns its id.
    @discardableResult
    public func handOutVoucher(_ code: String, delivery: NewDelivery) throws -> String {
        var values: [String: Value] = [
            "city": .text(delivery.city), "family": .text(delivery.family), "item": .text(Vouchers.item),
            "quantity": .integer(1), "delivered_at": .integer(Int64(clamping: delivery.deliveredAt)),
            "volunteer": .text(delivery.volunteer), "voucher": .text(code),
        ]
        values["campaign"] = delivery.campaign.map(Value.text)
        values["note"] = delivery.note.map(Value.text)
        values["association"] = delivery.association.map(Value.text)
        return try insert("deliveries", id: Vouchers.deliveryID(for: code), values: values)
    }
}

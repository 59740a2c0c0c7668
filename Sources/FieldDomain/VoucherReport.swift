import Foundation
public import SyncCore

/// The report's recharge codes (decision record 0017): per city, the unused codes each kind of node
/// holds, the codes handed out, the devices running low; and every hand-out a server refused (a code
/// handed out twice, or by a node that no longer held it), with the server's evidence.
public struct VoucherReport: Sendable {
    public struct City: Sendable {
        /// nil: central's pool (codes not allotted to a city).
        public var city: String?
        /// Unused codes held by central (returned by the city's hub, or the pool), the hub, its devices.
        public var central = 0
        public var hub = 0
        public var devices = 0
        /// Codes handed out to families (a voided hand-out included: its code does not come back).
        public var handedOut = 0
        public var unused: Int { central + hub + devices }
        /// Devices holding fewer unused codes than the threshold, fewest first.
        public var low: [Device] = []
    }

    public struct Device: Sendable {
        public var node: String
        public var name: String?
        public var unused: Int
    }

    /// A hand-out a server refused: the record as it was sent, and why.
    public struct RefusedHandOut: Sendable {
        public var code: String
        public var family: String
        public var volunteer: String
        public var deliveredAt: Int64
        /// Who sent it (a peer key: the device, or the hub that relayed it).
        public var source: String
        public var refusedAt: Int64
        public var detail: String
    }

    public var threshold: Int
    public var cities: [City] = []
    public var refused: [RefusedHandOut] = []

    /// `lowBelow`: a device holding fewer unused codes than this is running low; `names`: node id → name.
    public init(_ replica: Replica, lowBelow threshold: Int = 5, names: [String: String] = [:]) throws {
        self.threshold = threshold
        let store = replica.records
        let handedOut = Set(
            try store.records("deliveries", limit: 10_000_000).compactMap { $0.values["voucher"]?.textValue })
        var byCity: [String: City] = [:]
        var perDevice: [String: [String: Int]] = [:]
        for voucher in try Vouchers.all(store) {
            let key = voucher.city ?? ""
            var city = byCity[key] ?? City(city: voucher.city)
            let used = handedOut.contains(voucher.code)
            if used { city.handedOut += 1 }
            switch voucher.holder {
            case .central?: if !used { city.central += 1 }
            case .hub?: if !used { city.hub += 1 }
            case .device(let node)?:
                perDevice[key, default: [:]][node.description, default: 0] += used ? 0 : 1
                if !used { city.devices += 1 }
            case nil: break
            }
            byCity[key] = city
        }
        for (key, devices) in perDevice {
            byCity[key]?.low = devices.filter { $0.value < threshold }
                .map { Device(node: $0.key, name: names[$0.key], unused: $0.value) }
                .sorted { ($0.unused, $0.node) < ($1.unused, $1.node) }
        }
        cities = byCity.values.sorted { ($0.city ?? "") < ($1.city ?? "") }
        refused = try replica.refusedRecords(status: nil).compactMap(Self.refusedHandOut)
    }

    static func refusedHandOut(_ entry: RefusedEntry) -> RefusedHandOut? {
        guard entry.refusal.collection == "deliveries", entry.refusal.field == "voucher" else { return nil }
        let fields =
            entry.record.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] } ?? [:]
        func text(_ key: String) -> String { (fields[key] as? String) ?? "?" }
        return RefusedHandOut(
            code: fields["voucher"] as? String ?? String(entry.refusal.id.dropFirst(Vouchers.deliveryPrefix.count)),
            family: text("family"), volunteer: text("volunteer"),
            deliveredAt: (fields["delivered_at"] as? NSNumber)?.int64Value ?? 0, source: entry.source ?? "?",
            refusedAt: entry.atMillis, detail: entry.refusal.detail)
    }
}

public import SyncCore

/// A limit on what one family receives: "at most 1 food_pack per family in phase-1", from an entitlement
/// record the admin set, or from a campaign's items.
public struct EntitlementRule: Sendable, Hashable {
    /// The entitlement record's id, or `campaign:<code>` for a campaign's own limit.
    public var id: String
    public var item: String
    /// The campaign it applies to; nil: in every campaign, counted within each campaign.
    public var campaign: String?
    public var max: Int
    /// Counted over deliveries closer than this many days (nil: the whole campaign).
    public var windowDays: Int?

    public init(id: String, item: String, campaign: String?, max: Int, windowDays: Int? = nil) {
        self.id = id
        self.item = item
        self.campaign = campaign
        self.max = max
        self.windowDays = windowDays
    }

    /// "at most 1 food_pack per family in phase-1 within 30 days"
    public var sentence: String {
        "at most \(max) \(item) per family \(campaign.map { "in \($0)" } ?? "in each campaign")"
            + (windowDays.map { " within \($0) days" } ?? "")
    }

    /// The rules a node holds: the admin's entitlement records and each campaign's per-family counts.
    public static func all(in store: any RecordSource, catalogue: Catalogue) throws -> [EntitlementRule] {
        var rules = try store.records("entitlements", limit: Catalogue.maxRecords).compactMap { row -> Self? in
            guard case .text(let item) = row.values["item"], let max = row.values["max_per_family"]?.integerValue
            else { return nil }
            return EntitlementRule(
                id: row.id, item: item, campaign: row.values["campaign"]?.textValue, max: Int(clamping: max),
                windowDays: row.values["window_days"]?.integerValue.map { Int(clamping: $0) })
        }
        for campaign in catalogue.campaigns.values {
            for (item, count) in campaign.items {
                if let count {
                    rules.append(
                        EntitlementRule(
                            id: "campaign:\(campaign.code)", item: item, campaign: campaign.code, max: count))
                }
            }
        }
        return rules.sorted { ($0.item, $0.id) < ($1.item, $1.id) }
    }
}

/// A delivery as the rules count it: for the family group it was given to.
public struct CountedDelivery: Sendable, Hashable {
    public var id: String
    public var item: String
    public var quantity: Int
    public var campaign: String?
    /// When it was handed over (Unix ms).
    public var deliveredAt: Int64

    public init(id: String, item: String, quantity: Int, campaign: String?, deliveredAt: Int64) {
        self.id = id
        self.item = item
        self.quantity = quantity
        self.campaign = campaign
        self.deliveredAt = deliveredAt
    }
}

/// A rule a delivery would break, with the deliveries that count against it.
public struct EntitlementBreach: Sendable, Hashable {
    public var rule: EntitlementRule
    /// The family's earlier deliveries the rule counts (without the one checked).
    public var counted: [CountedDelivery]
    /// What the family would have received under the rule, the checked delivery included.
    public var total: Int
}

/// The entitlement verdict: one pure function, used by the device before it logs a delivery and by the
/// report on every delivery central holds, so that what a device refuses is exactly what the report
/// calls a breach.
public enum Entitlements {
    /// The rules `candidate` breaks given the family's `prior` deliveries (not voided, of the family and of
    /// every family merged with it). A rule counts the prior deliveries of its item in the candidate's
    /// campaign (for a rule of every campaign, its own campaign counted apart), closer in time than its
    /// window if it has one.
    public static func breaches(
        of candidate: CountedDelivery, given prior: some Collection<CountedDelivery>, rules: [EntitlementRule]
    ) -> [EntitlementBreach] {
        var breaches: [EntitlementBreach] = []
        for rule in rules where rule.item == candidate.item {
            if let campaign = rule.campaign, campaign != candidate.campaign { continue }
            let window = rule.windowDays.map { Int64($0).multipliedReportingOverflow(by: 86_400_000).partialValue }
            let counted = prior.filter { delivery in
                guard delivery.id != candidate.id, delivery.item == candidate.item,
                    delivery.campaign == candidate.campaign
                else { return false }
                guard let window else { return true }
                return candidate.deliveredAt.subtractingReportingOverflow(delivery.deliveredAt).partialValue.magnitude
                    < window.magnitude
            }
            let total = counted.reduce(candidate.quantity) { $0.addingSaturating($1.quantity) }
            if total > rule.max { breaches.append(EntitlementBreach(rule: rule, counted: counted, total: total)) }
        }
        return breaches
    }
}

extension Int {
    /// The sum, held at the bounds instead of trapping (quantities come from clients).
    public func addingSaturating(_ other: Int) -> Int {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }
}

import FieldDomain
import Foundation
import SyncClient
import SyncCore

/// Errors, refusals, rules and names in the volunteer's language, from codes and arguments (never by
/// translating an English sentence).
enum Localized {
    /// The message of a failed operation: a ``CLIError``'s own (already worded), a network failure by its
    /// kind, a storage failure or a domain rule by its code.
    static func message(for error: any Error) -> String {
        switch error {
        case let error as CLIError: return error.message
        case let error as SyncClientError: return message(for: error)
        case let error as SyncError: return message(for: error)
        case let problem as Problem: return failed(problem.code.rawValue, problem.detail)
        default: return failed("-", "\(error)")
        }
    }

    /// A failure no phrase words: in English, its own sentence; otherwise its code, and the sentence for
    /// the coordinator.
    static func failed(_ code: String, _ message: String) -> String {
        Language.current == .en ? message : SyncText.failed(code, message)
    }

    static func message(for error: SyncClientError) -> String {
        let server = Device.serverForMessages ?? "?"
        let code = error.problem?.code.rawValue ?? "-"
        switch error.kind {
        case .offline: return SyncText.offline(server)
        case .dns: return SyncText.dns(server)
        case .timeout: return SyncText.timeout(server)
        case .tls: return SyncText.tls(server)
        case .connectionLost: return SyncText.connectionLost(server)
        case .refused:
            switch error.status {
            case 401: return SyncText.revoked()
            case 403: return SyncText.forbidden(code)
            default: return SyncText.refusedRequest(error.status ?? 0, code)
            }
        case .serverError:
            return error.status == 507 ? SyncText.hubFull(code) : SyncText.hubFailed(error.status ?? 0)
        case .invalidResponse: return SyncText.invalidResponse()
        case .configuration: return SyncText.settings(error.message)
        }
    }

    static func message(for error: SyncError) -> String {
        if let reason = error.reason, let text = problem(reason, error.reasonArguments) { return text }
        switch error.code {
        case .diskFull: return SyncText.storageFull()
        case .corruptReplica: return SyncText.damaged(Device.pathForMessages ?? "?")
        default: return failed(error.code.rawValue, error.message)
        }
    }

    /// A domain rule's problem (``RecordProblem/reason``), or nil for a reason this version does not know.
    static func problem(_ reason: String, _ arguments: [String]) -> String? {
        guard let key = RefusalText(rawValue: reason), key.rawValue.contains("-") else { return nil }
        let text = RefusalText.fill(key.phrase.text(Language.current), arguments)
        switch key {
        case .noCampaign: return text + " " + open(day: arguments.first, codes: arguments.dropFirst().first)
        case .unknownCampaign, .campaignClosed:
            return text + " " + open(day: arguments.dropFirst().first, codes: arguments.last)
        default: return text
        }
    }

    /// "Open on 2026-12-06: phase-1." or "No campaign is open on 2026-12-06."
    private static func open(day: String?, codes: String?) -> String {
        guard let codes, !codes.isEmpty else { return RefusalText.noneOpenOn(day ?? "?") }
        return RefusalText.openOn(day ?? "?", codes)
    }

    /// Why the hub refused a record: from its code and field (the hub's `detail` is in English).
    static func refusal(_ refusal: Refusal) -> String {
        let what: RefusalText =
            switch refusal.collection {
            case "deliveries": .delivery
            case "families": .family
            case "delivery_voids": .void
            case "vouchers": .voucher
            default: .record
            }
        let why =
            switch refusal.code {
            case .outOfScope: RefusalText.outOfScope()
            case .badReference: RefusalText.badReference()
            case .invalidValue: RefusalText.invalidValue(refusal.field.map(FamilyText.field) ?? "-")
            default: RefusalText.otherRefusal(refusal.code.rawValue)
            }
        return RefusalText.refusedLine(what(), refusal.id, why)
    }

    /// "at most 1 Panier alimentaire per family in phase-1 within 30 days", in this run's language.
    static func rule(_ rule: EntitlementRule, catalogue: Catalogue?) -> String {
        let campaign = rule.campaign.map { DeliveryText.inCampaign($0) } ?? DeliveryText.inEachCampaign()
        return DeliveryText.atMost(rule.max, itemName(rule.item, catalogue), campaign)
            + (rule.windowDays.map { DeliveryText.withinDays($0) } ?? "")
    }

    /// An item's name in this run's language (French, Arabic or English, as the admin gave them), or its
    /// code when the catalogue does not name it.
    static func itemName(_ code: String, _ catalogue: Catalogue?) -> String {
        guard let item = catalogue?.items[code] ?? Item.builtIn.first(where: { $0.code == code }) else { return code }
        return name(of: item)
    }

    /// Why `match` is likely the same family: its evidence, strongest first, with its weight in bits
    /// ("+21.3 même téléphone"), as the matcher weighed it.
    static func evidence(_ match: Match) -> String {
        match.evidence.sorted { abs($0.weight) > abs($1.weight) }.map { item in
            let rounded = (item.weight * 10).rounded() / 10
            let agrees = item.weight >= 0
            let text: MatchText =
                switch item.kind {
                case .reference: .reference
                case .phone: .phone
                case .phoneSlip: .phoneSlip
                case .phoneDiffers: .phoneDiffers
                case .name: .name
                case .nameDiffers: .nameDiffers
                case .district: .district
                case .districtDiffers: .districtDiffers
                case .address: .address
                case .householdSize: agrees ? .sizeSame : .sizeDiffers
                case .association: agrees ? .associationSame : .associationDiffers
                }
            return "\(rounded >= 0 ? "+" : "")\(rounded) \(text())"
        }.joined(separator: "; ")
    }

    /// A campaign's name in this run's language, or its one `name`.
    static func name(of campaign: Campaign) -> String {
        switch Language.current {
        case .fr: campaign.nameFR ?? campaign.name
        case .ar: campaign.nameAR ?? campaign.name
        case .en: campaign.name
        }
    }

    static func name(of item: Item) -> String {
        switch Language.current {
        case .fr: item.nameFR
        case .ar: item.nameAR ?? item.nameFR
        case .en: item.nameEN ?? item.nameFR
        }
    }
}

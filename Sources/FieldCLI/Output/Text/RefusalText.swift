/// Why a delivery, a family or another record was refused: by this phone's own check of the domain's rules
/// (a ``RecordProblem/reason`` and its arguments), or by the hub (a refusal's code and field).
enum RefusalText: String, Phrasebook {
    static let book = "refusal"

    // The domain's rules (`FieldSyncRules`, `VoucherRules`): the key is the reason's stable name.
    case unknownItem = "unknown-item", inactiveItem = "inactive-item", noCampaign = "no-campaign"
    case unknownCampaign = "unknown-campaign", campaignClosed = "campaign-closed"
    case campaignLacksItem = "campaign-lacks-item", unknownAssociation = "unknown-association"
    case associationElsewhere = "association-elsewhere", rechargeNeedsCode = "recharge-needs-code"
    case codeHandedOut = "code-handed-out", unknownCode = "unknown-code", codeNotHeld = "code-not-held"
    // Open campaigns, after a campaign problem.
    case openOn = "open-on", noneOpenOn = "none-open-on"
    // The hub's refusals of one record (a refusal's code), and the record's kind.
    case outOfScope = "out-of-scope", badReference = "bad-reference", invalidValue = "invalid-value"
    case otherRefusal = "other-refusal", refusedLine = "refused-line"
    case delivery, family, void, voucher, record

    var phrase: Phrase {
        switch self {
        case .unknownItem:
            Phrase(
                en: "'{1}' is not an item of the catalogue: {2}.", fr: "'{1}' n'est pas un article du catalogue : {2}.",
                ar: "'{1}' ليس صنفًا من الكتالوج: {2}.")
        case .inactiveItem:
            Phrase(
                en: "Item '{1}' is no longer handed out.", fr: "L'article '{1}' n'est plus distribué.",
                ar: "الصنف '{1}' لم يعد يُسلَّم.")
        case .noCampaign:
            Phrase(
                en: "A delivery names its campaign (--campaign).",
                fr: "Une distribution indique sa campagne (--campaign).",
                ar: "يجب أن يذكر التسليم حملته (--campaign).")
        case .unknownCampaign:
            Phrase(en: "There is no campaign '{1}'.", fr: "Il n'y a pas de campagne '{1}'.", ar: "لا توجد حملة '{1}'.")
        case .campaignClosed:
            Phrase(
                en: "Campaign '{1}' is not open on {2} (it runs {3} to {4}).",
                fr: "La campagne '{1}' n'est pas ouverte le {2} (elle va du {3} au {4}).",
                ar: "الحملة '{1}' غير مفتوحة يوم {2} (مدتها من {3} إلى {4}).")
        case .campaignLacksItem:
            Phrase(
                en: "Campaign '{1}' does not give {2}; it gives {3}.",
                fr: "La campagne '{1}' ne donne pas {2} ; elle donne {3}.",
                ar: "الحملة '{1}' لا تعطي {2}؛ بل تعطي {3}.")
        case .unknownAssociation:
            Phrase(
                en: "There is no association '{1}' here.", fr: "Il n'y a pas d'association '{1}' ici.",
                ar: "لا توجد جمعية '{1}' هنا.")
        case .associationElsewhere:
            Phrase(
                en: "Association '{1}' works in {2}, not in {3}.",
                fr: "L'association '{1}' travaille à {2}, pas à {3}.",
                ar: "جمعية '{1}' تعمل في {2} وليس في {3}.")
        case .rechargeNeedsCode:
            Phrase(
                en: "An internet recharge hands out a recharge code this phone holds.",
                fr: "Une recharge internet donne un code de recharge que ce téléphone détient.",
                ar: "تعبئة الإنترنت تُسلَّم برمز تعبئة يحمله هذا الهاتف.")
        case .codeHandedOut:
            Phrase(
                en: "Code {1} was already handed out.", fr: "Le code {1} a déjà été donné.",
                ar: "الرمز {1} سبق تسليمه.")
        case .unknownCode:
            Phrase(
                en: "There is no recharge code {1} here.", fr: "Il n'y a pas de code de recharge {1} ici.",
                ar: "لا يوجد رمز تعبئة {1} هنا.")
        case .codeNotHeld:
            Phrase(
                en: "Code {1} is not held by this phone: a phone hands out only the codes it holds.",
                fr: "Le code {1} n'est pas détenu par ce téléphone : un téléphone ne donne que ses propres codes.",
                ar: "الرمز {1} ليس عند هذا الهاتف: الهاتف لا يسلّم إلا الرموز التي يحملها.")
        case .openOn:
            Phrase(en: "Open on {1}: {2}.", fr: "Ouvertes le {1} : {2}.", ar: "المفتوحة يوم {1}: {2}.")
        case .noneOpenOn:
            Phrase(
                en: "No campaign is open on {1}.", fr: "Aucune campagne n'est ouverte le {1}.",
                ar: "لا توجد حملة مفتوحة يوم {1}.")
        case .outOfScope:
            Phrase(
                en: "it belongs to another city (or moved away): the hub did not take it",
                fr: "il appartient à une autre ville (ou l'a quittée) : le hub ne l'a pas pris",
                ar: "يخص مدينة أخرى (أو انتقل منها): لم يقبله المركز")
        case .badReference:
            Phrase(
                en: "it names a family or a delivery of another city",
                fr: "il désigne une famille ou une distribution "
                    + "d'une autre ville", ar: "يشير إلى أسرة أو تسليم من مدينة أخرى")
        case .invalidValue:
            Phrase(
                en: "the hub does not accept its '{1}'", fr: "le hub n'accepte pas son champ '{1}'",
                ar: "المركز لا يقبل قيمة '{1}' فيه")
        case .otherRefusal:
            Phrase(en: "refused by the hub ({1})", fr: "refusé par le hub ({1})", ar: "رفضه المركز ({1})")
        case .refusedLine: Phrase(en: "{1} {2}: {3}", fr: "{1} {2} : {3}", ar: "{1} {2}: {3}")
        case .delivery: Phrase(en: "delivery", fr: "distribution", ar: "التسليم")
        case .family: Phrase(en: "family", fr: "famille", ar: "الأسرة")
        case .void: Phrase(en: "void", fr: "annulation", ar: "الإلغاء")
        case .voucher: Phrase(en: "recharge code", fr: "code de recharge", ar: "رمز التعبئة")
        case .record: Phrase(en: "record", fr: "enregistrement", ar: "السجل")
        }
    }
}

/// What the volunteer reads about deliveries, the catalogue and recharge codes.
enum DeliveryText: String, Phrasebook {
    static let book = "delivery"

    case rule, atMost, inCampaign, inEachCampaign, withinDays, alreadyDelivered, notLogged
    case logged, rechargeCode, oneCodeAtATime, noCodeHeld, noDelivery, voided, noDeliveries
    case colWhen, colItem, colQuantity, colCampaign, colVolunteer, colDelivery
    case colCode, colName, colUnit, colUntil, colGives, noCampaigns, noneOpen
    case codesHere, returned

    var phrase: Phrase {
        switch self {
        case .rule: Phrase(en: "Rule: {1}.", fr: "Règle : {1}.", ar: "القاعدة: {1}.")
        case .atMost:
            Phrase(
                en: "at most {1} {2} per family {3}", fr: "au plus {1} {2} par famille {3}",
                ar: "{2}: {1} على الأكثر لكل أسرة {3}")
        case .inCampaign: Phrase(en: "in {1}", fr: "pendant {1}", ar: "في حملة {1}")
        case .inEachCampaign: Phrase(en: "in each campaign", fr: "à chaque campagne", ar: "في كل حملة")
        case .withinDays: Phrase(en: " within {1} days", fr: " sur {1} jours", ar: " خلال {1} يومًا")
        case .alreadyDelivered:
            Phrase(en: "Already delivered to {1}:", fr: "Déjà distribué à {1} :", ar: "سبق التسليم إلى {1}:")
        case .notLogged:
            Phrase(
                en: "Not logged: this would break the rule. If it is justified, add --override \"reason\".",
                fr: "Pas notée : cela enfreindrait la règle. Si c'est justifié, ajoutez --override \"raison\".",
                ar: "لم يُسجَّل: هذا يخالف القاعدة. إن كان له مبرر، أضف --override \"السبب\".")
        case .logged:
            Phrase(
                en: "logged {1} {2} for {3} ({4})", fr: "noté : {1} {2} pour {3} ({4})",
                ar: "سُجّل: {2} × {1} للأسرة {3} ({4})")
        case .rechargeCode:
            Phrase(
                en: "recharge code {1} for {2} ({3})", fr: "code de recharge {1} pour {2} ({3})",
                ar: "رمز التعبئة {1} للأسرة {2} ({3})")
        case .oneCodeAtATime:
            Phrase(
                en: "Recharge codes are handed out one at a time: --qty 1.",
                fr: "Les codes de recharge se donnent un par un : --qty 1.",
                ar: "تُسلَّم رموز التعبئة واحدًا تلو الآخر: --qty 1.")
        case .noCodeHeld:
            Phrase(
                en: "This phone holds no recharge code. Ask your hub for some, then run `field sync`.",
                fr: "Ce téléphone n'a aucun code de recharge. Demandez-en à votre hub, puis lancez `field sync`.",
                ar: "لا يحمل هذا الهاتف أي رمز تعبئة. اطلب رموزًا من مركزك، ثم شغّل `field sync`.")
        case .noDelivery:
            Phrase(
                en: "No delivery '{1}' on this phone. `field family show REF` lists a family's deliveries.",
                fr: "Aucune distribution '{1}' sur ce téléphone. `field family show REF` liste les distributions "
                    + "d'une famille.",
                ar: "لا يوجد تسليم '{1}' على هذا الهاتف. الأمر `field family show REF` يعرض تسليمات أسرة.")
        case .voided:
            Phrase(
                en: "voided delivery {1} ({2})", fr: "distribution {1} annulée ({2})", ar: "أُلغي التسليم {1} ({2})")
        case .noDeliveries: Phrase(en: "no deliveries", fr: "aucune distribution", ar: "لا توجد تسليمات")
        case .colWhen: Phrase(en: "WHEN", fr: "QUAND", ar: "متى")
        case .colItem: Phrase(en: "ITEM", fr: "ARTICLE", ar: "الصنف")
        case .colQuantity: Phrase(en: "QTY", fr: "QTÉ", ar: "الكمية")
        case .colCampaign: Phrase(en: "CAMPAIGN", fr: "CAMPAGNE", ar: "الحملة")
        case .colVolunteer: Phrase(en: "VOLUNTEER", fr: "BÉNÉVOLE", ar: "المتطوع")
        case .colDelivery: Phrase(en: "DELIVERY", fr: "DISTRIBUTION", ar: "التسليم")
        case .colCode: Phrase(en: "CODE", fr: "CODE", ar: "الرمز")
        case .colName: Phrase(en: "NAME", fr: "NOM", ar: "الاسم")
        case .colUnit: Phrase(en: "UNIT", fr: "UNITÉ", ar: "الوحدة")
        case .colUntil: Phrase(en: "UNTIL", fr: "JUSQU'AU", ar: "إلى غاية")
        case .colGives:
            Phrase(
                en: "GIVES (MOST PER FAMILY)", fr: "DONNE (MAXIMUM PAR FAMILLE)", ar: "تعطي (الحد الأقصى لكل أسرة)")
        case .noCampaigns:
            Phrase(
                en: "No campaigns are set up: --campaign is free text.",
                fr: "Aucune campagne n'est prévue : --campaign est un texte libre.",
                ar: "لا توجد حملات معدّة: --campaign نص حر.")
        case .noneOpen:
            Phrase(
                en: "No campaign is open today: deliveries are refused until the admin opens one.",
                fr: "Aucune campagne n'est ouverte aujourd'hui : les distributions sont refusées jusqu'à ce que "
                    + "l'administration en ouvre une.",
                ar: "لا توجد حملة مفتوحة اليوم: تُرفض التسليمات إلى أن تفتح الإدارة حملة.")
        case .codesHere:
            Phrase(
                en: "{1} recharge codes on this phone", fr: "{1} codes de recharge sur ce téléphone",
                ar: "{1} رموز تعبئة على هذا الهاتف")
        case .returned:
            Phrase(
                en: "returned {1} codes to the hub (field sync sends them)",
                fr: "{1} codes rendus au hub (field sync les envoie)",
                ar: "أُرجع {1} رمزًا إلى المركز (يرسلها field sync)")
        }
    }
}

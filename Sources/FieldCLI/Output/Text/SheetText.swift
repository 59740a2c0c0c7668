/// What the volunteer reads about a sheet of deliveries (`field deliver --csv`) and their hub's stock.
enum SheetText: String, Phrasebook {
    static let book = "sheet"

    case cannotRead, columns, needsFamilyAndItem, quantity, noFamily, breach, oneCode, noMoreCodes, line
    case nothingLogged, rechargeCode, logged, wouldLog, withCodes, tooLong
    case stockOut, noStock, colCity, colItem, colReceived, colReturned, colLost, colCorrected, colHandedOut
    case colOnHand, overdrawn, out

    var phrase: Phrase {
        switch self {
        case .cannotRead:
            Phrase(
                en: "Cannot read the sheet {1}.", fr: "Impossible de lire la feuille {1}.",
                ar: "تعذّرت قراءة الورقة {1}.")
        case .columns:
            Phrase(
                en:
                    "The sheet's first line names its columns: family, item, and optionally qty, campaign, note (found: {1}).",
                fr:
                    "La première ligne de la feuille nomme ses colonnes : family, item, et au choix qty, campaign, note (trouvé : {1}).",
                ar: "السطر الأول من الورقة يسمّي أعمدتها: family وitem، واختياريًا qty وcampaign وnote (الموجود: {1}).")
        case .needsFamilyAndItem:
            Phrase(
                en: "a row names its family and its item.", fr: "une ligne nomme sa famille et son article.",
                ar: "كل سطر يذكر الأسرة والمادة.")
        case .quantity:
            Phrase(
                en: "qty is a whole number from 1 to 1000 (found '{1}').",
                fr: "qty est un nombre entier de 1 à 1000 (trouvé : '{1}').",
                ar: "qty عدد صحيح من 1 إلى 1000 (الموجود: '{1}').")
        case .noFamily:
            Phrase(
                en: "no family '{1}' on this device.", fr: "aucune famille '{1}' sur cet appareil.",
                ar: "لا توجد أسرة '{1}' على هذا الجهاز.")
        case .breach:
            Phrase(
                en: "{1}: {2}; already delivered {3}.", fr: "{1} : {2} ; déjà remis {3}.",
                ar: "{1}: {2}؛ سبق التسليم {3}.")
        case .oneCode:
            Phrase(
                en: "recharge codes are handed out one at a time: qty 1.",
                fr: "les codes de recharge se donnent un par un : qty 1.", ar: "تُسلَّم رموز التعبئة واحدًا واحدًا: qty 1.")
        case .noMoreCodes:
            Phrase(
                en: "this device holds no more recharge codes; ask your hub, then sync.",
                fr: "cet appareil n'a plus de code de recharge ; demandez-en à votre hub, puis synchronisez.",
                ar: "لم يعد لدى هذا الجهاز رموز تعبئة؛ اطلبها من مركزك ثم زامن.")
        case .line: Phrase(en: "line {1}: {2}", fr: "ligne {1} : {2}", ar: "السطر {1}: {2}")
        case .nothingLogged:
            Phrase(
                en: "Nothing logged: {1} of {2} rows cannot be. Correct them and run the sheet again.",
                fr: "Rien n'est noté : {1} lignes sur {2} ne peuvent pas l'être. Corrigez-les et relancez la feuille.",
                ar: "لم يُسجَّل شيء: {1} من {2} سطرًا لا يمكن تسجيلها. صحّحها ثم أعد تشغيل الورقة.")
        case .rechargeCode:
            Phrase(
                en: "line {1}: recharge code {2} for {3}", fr: "ligne {1} : code de recharge {2} pour {3}",
                ar: "السطر {1}: رمز التعبئة {2} لـ {3}")
        case .logged: Phrase(en: "logged {1} deliveries", fr: "{1} remises notées", ar: "سُجِّل {1} تسليمًا")
        case .wouldLog:
            Phrase(
                en: "dry run: the sheet is fine, {1} deliveries would be logged",
                fr: "essai : la feuille est correcte, {1} remises seraient notées",
                ar: "تجربة: الورقة سليمة، وسيُسجَّل {1} تسليمًا")
        case .withCodes: Phrase(en: " ({1} recharge codes)", fr: " ({1} codes de recharge)", ar: " ({1} رمز تعبئة)")
        case .stockOut:
            Phrase(
                en:
                    "warning: as far as this device knows, your hub has no {1} left (received {2}, handed out {3}). Tell your hub; sync to see new arrivals.",
                fr:
                    "attention : d'après cet appareil, votre hub n'a plus de {1} (reçu {2}, remis {3}). Prévenez votre hub ; synchronisez pour voir les arrivages.",
                ar:
                    "تنبيه: حسب علم هذا الجهاز، لم يبقَ لدى مركزك {1} (استُلم {2}، وسُلّم {3}). أخبر مركزك؛ وزامن لرؤية ما وصل."
            )
        case .tooLong:
            Phrase(
                en: "The sheet has {1} rows; a sheet holds at most {2}: split it.",
                fr: "La feuille a {1} lignes ; une feuille en a au plus {2} : découpez-la.",
                ar: "في الورقة {1} سطرًا؛ والحد الأقصى {2}: قسّمها.")
        case .noStock: Phrase(en: "no stock recorded", fr: "aucun stock noté", ar: "لا مخزون مسجّل")
        case .colCity: Phrase(en: "CITY", fr: "VILLE", ar: "المدينة")
        case .colItem: Phrase(en: "ITEM", fr: "ARTICLE", ar: "المادة")
        case .colReceived: Phrase(en: "RECEIVED", fr: "REÇU", ar: "المستلم")
        case .colReturned: Phrase(en: "RETURNED", fr: "RENVOYÉ", ar: "المُرجَع")
        case .colLost: Phrase(en: "LOST", fr: "PERDU", ar: "المفقود")
        case .colCorrected: Phrase(en: "CORRECTED", fr: "CORRIGÉ", ar: "التصحيح")
        case .colHandedOut: Phrase(en: "HANDED OUT", fr: "REMIS", ar: "المُسلَّم")
        case .colOnHand: Phrase(en: "ON HAND", fr: "EN STOCK", ar: "المتبقي")
        case .overdrawn:
            Phrase(
                en: "handed out more than received", fr: "plus remis que reçu", ar: "سُلّم أكثر مما استُلم")
        case .out: Phrase(en: "out", fr: "épuisé", ar: "نفد")
        }
    }
}

import ArgumentParser

/// The help of the volunteer's commands' options and arguments.
enum OptionText: String, Phrasebook {
    static let book = "options"

    case db, lang, json
    case enrol, server, tokenFile, city, volunteer, association, caFile
    case familyRef, reference, newReference, head, phone, size, district, address, notes, associationID, force
    case search, item, quantity, campaign, note, override, delivery, reason, batchSize, count, all
    case sheet, dryRun

    var phrase: Phrase {
        switch self {
        case .db:
            Phrase(
                en: "Where FieldSync keeps this phone's data (default: $FIELD_DB, or ~/.fieldsync/device.db).",
                fr: "Où FieldSync garde les données de ce téléphone (par défaut : $FIELD_DB, ou "
                    + "~/.fieldsync/device.db).",
                ar: "مكان حفظ بيانات FieldSync على هذا الهاتف (افتراضيًا: $FIELD_DB أو ~/.fieldsync/device.db).")
        case .lang:
            Phrase(
                en: "The language: fr, ar or en (with init: kept for this phone).",
                fr: "La langue : fr, ar ou en (avec init : gardée pour ce téléphone).",
                ar: "اللغة: fr أو ar أو en (مع init: تُحفظ لهذا الهاتف).")
        case .json:
            Phrase(
                en: "Print JSON instead of text.", fr: "Écrire du JSON au lieu du texte.",
                ar: "طباعة JSON بدل النص.")
        case .enrol:
            Phrase(
                en: "The enrolment file from your coordinator (hub address, access key, city, volunteer).",
                fr: "Le fichier d'inscription de votre coordinateur (adresse du hub, clé d'accès, ville, bénévole).",
                ar: "ملف التسجيل من المنسّق (عنوان المركز، مفتاح الدخول، المدينة، المتطوع).")
        case .server:
            Phrase(
                en: "The hub's address (or central's), without an enrolment file.",
                fr: "L'adresse du hub (ou du central), sans fichier d'inscription.",
                ar: "عنوان المركز (أو المركز الرئيسي)، دون ملف تسجيل.")
        case .tokenFile:
            Phrase(
                en: "A file holding this phone's access key (from the hub operator), without an enrolment file.",
                fr: "Un fichier contenant la clé d'accès de ce téléphone (du responsable du hub), sans fichier "
                    + "d'inscription.",
                ar: "ملف فيه مفتاح دخول هذا الهاتف (من مسيّر المركز)، دون ملف تسجيل.")
        case .city:
            Phrase(
                en: "The city you work in (learnt from the hub when it is reachable).",
                fr: "La ville où vous travaillez (apprise du hub quand il répond).",
                ar: "المدينة التي تعمل فيها (تُعرف من المركز حين يكون متاحًا).")
        case .volunteer:
            Phrase(
                en: "The volunteer's name on deliveries.", fr: "Le nom du bénévole sur les distributions.",
                ar: "اسم المتطوع على التسليمات.")
        case .association:
            Phrase(
                en: "The volunteer's association (its id, from the admin), kept on each delivery.",
                fr: "L'association du bénévole (son identifiant, donné par l'administration), gardée sur chaque "
                    + "distribution.",
                ar: "جمعية المتطوع (معرّفها من الإدارة)، تُحفظ مع كل تسليم.")
        case .caFile:
            Phrase(
                en: "Certificates (PEM) to trust for the hub's secure connection.",
                fr: "Certificats (PEM) à accepter pour la connexion sécurisée au hub.",
                ar: "الشهادات (PEM) المعتمدة للاتصال الآمن بالمركز.")
        case .familyRef:
            Phrase(
                en: "The family's reference or id.", fr: "La référence ou l'identifiant de la famille.",
                ar: "مرجع الأسرة أو معرّفها.")
        case .reference:
            Phrase(
                en: "The family's reference code (on its card).",
                fr: "Le code de référence de la famille (sur sa carte).",
                ar: "رمز مرجع الأسرة (على بطاقتها).")
        case .newReference:
            Phrase(en: "A new reference code.", fr: "Un nouveau code de référence.", ar: "رمز مرجع جديد.")
        case .head:
            Phrase(
                en: "The head of household's name.", fr: "Le nom du chef de famille.", ar: "اسم ربّ الأسرة.")
        case .phone: Phrase(en: "Phone number.", fr: "Numéro de téléphone.", ar: "رقم الهاتف.")
        case .size:
            Phrase(
                en: "Household size (1 or more).", fr: "Taille du foyer (1 ou plus).",
                ar: "عدد أفراد الأسرة (1 أو أكثر).")
        case .district: Phrase(en: "District.", fr: "Quartier.", ar: "الحي.")
        case .address: Phrase(en: "Address.", fr: "Adresse.", ar: "العنوان.")
        case .notes: Phrase(en: "Notes.", fr: "Remarques.", ar: "ملاحظات.")
        case .associationID:
            Phrase(en: "The association's id.", fr: "L'identifiant de l'association.", ar: "معرّف الجمعية.")
        case .force:
            Phrase(
                en: "Add even if a likely duplicate exists.", fr: "Ajouter même si un doublon probable existe.",
                ar: "الإضافة حتى لو وُجدت أسرة يُرجَّح أنها نفسها.")
        case .search:
            Phrase(
                en: "Text to find in the name, phone or reference (accents and Arabic variants ignored).",
                fr: "Texte à chercher dans le nom, le téléphone ou la référence (accents et variantes arabes "
                    + "ignorés).",
                ar: "نص للبحث عنه في الاسم أو الهاتف أو المرجع (دون اعتبار للحركات والتهجئات المختلفة).")
        case .item:
            Phrase(
                en: "The item's code in the catalogue (`field catalogue` lists them), e.g. food_pack.",
                fr: "Le code de l'article dans le catalogue (`field catalogue` les liste), par ex. food_pack.",
                ar: "رمز الصنف في الكتالوج (يعرضها `field catalogue`)، مثل food_pack.")
        case .quantity: Phrase(en: "How many (1 or more).", fr: "Combien (1 ou plus).", ar: "الكمية (1 أو أكثر).")
        case .campaign:
            Phrase(
                en: "The campaign's code, e.g. phase-1 (`field catalogue` lists the open ones).",
                fr: "Le code de la campagne, par ex. phase-1 (`field catalogue` liste celles ouvertes).",
                ar: "رمز الحملة، مثل phase-1 (يعرض `field catalogue` الحملات المفتوحة).")
        case .note: Phrase(en: "A note.", fr: "Une remarque.", ar: "ملاحظة.")
        case .override:
            Phrase(
                en: "Log it even if it breaks a rule; the reason is kept.",
                fr: "La noter même si elle enfreint une règle ; la raison est gardée.",
                ar: "تسجيله حتى لو خالف قاعدة؛ ويُحفظ السبب.")
        case .sheet:
            Phrase(
                en:
                    "A sheet of deliveries to log (CSV: family, item, and optionally qty, campaign, note): all or none.",
                fr:
                    "Une feuille de remises à noter (CSV : family, item, et au choix qty, campaign, note) : tout ou rien.",
                ar: "ورقة تسليمات للتسجيل (CSV: family وitem، واختياريًا qty وcampaign وnote): كلها أو لا شيء.")
        case .dryRun:
            Phrase(
                en: "With --csv: check the sheet, log nothing.", fr: "Avec --csv : vérifier la feuille, ne rien noter.",
                ar: "مع --csv: فحص الورقة دون تسجيل أي شيء.")
        case .delivery:
            Phrase(
                en: "The delivery's id.", fr: "L'identifiant de la distribution.", ar: "معرّف التسليم.")
        case .reason: Phrase(en: "Why.", fr: "Pourquoi.", ar: "السبب.")
        case .batchSize:
            Phrase(
                en: "Records per request (lower it on a very slow link).",
                fr: "Enregistrements par requête (à baisser sur une liaison très lente).",
                ar: "عدد السجلات في كل طلب (قلّله إن كان الاتصال بطيئًا جدًا).")
        case .count: Phrase(en: "How many.", fr: "Combien.", ar: "كم رمزًا.")
        case .all: Phrase(en: "All of them.", fr: "Tous.", ar: "كلها.")
        }
    }

    /// The phrase as an option's help.
    var help: ArgumentHelp { ArgumentHelp(self()) }
}

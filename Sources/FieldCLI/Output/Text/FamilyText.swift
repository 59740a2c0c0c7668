/// What the volunteer reads about families: registering, finding, showing and their history.
enum FamilyText: String, Phrasebook {
    static let book = "family"

    case likelySame, notAdded, registered, noneYet, noMatch, updated, deleted
    case colReference, colHead, colPhone, colSize, colID
    case reference, headName, phone, householdSize, district, address, notes, city, association, mergedInto, id
    case currentValues, supersededValues, colField, colValue, colWhen, colBy, colReplaced, colConflict, yes
    case thisPhone, otherDevice

    var phrase: Phrase {
        switch self {
        case .likelySame:
            Phrase(
                en: "Likely the same family, already registered:",
                fr: "Probablement la même famille, déjà enregistrée :", ar: "يُرجَّح أنها الأسرة نفسها، وهي مسجّلة:")
        case .notAdded:
            Phrase(
                en: "Not added. If this is really another family, run the command again with --force.",
                fr: "Pas ajoutée. S'il s'agit vraiment d'une autre famille, relancez la commande avec --force.",
                ar: "لم تُضف. إن كانت فعلًا أسرة أخرى، أعد الأمر مع --force.")
        case .registered:
            Phrase(en: "registered family {1} ({2})", fr: "famille {1} enregistrée ({2})", ar: "سُجّلت الأسرة {1} ({2})")
        case .noneYet: Phrase(en: "no families yet", fr: "aucune famille pour l'instant", ar: "لا توجد أسر بعد")
        case .noMatch:
            Phrase(
                en: "no family matches '{1}'", fr: "aucune famille ne correspond à '{1}'",
                ar: "لا توجد أسرة توافق '{1}'")
        case .updated:
            Phrase(en: "updated family {1}: {2}", fr: "famille {1} modifiée : {2}", ar: "عُدّلت الأسرة {1}: {2}")
        case .deleted: Phrase(en: "deleted family {1}", fr: "famille {1} supprimée", ar: "حُذفت الأسرة {1}")
        case .colReference: Phrase(en: "REFERENCE", fr: "RÉFÉRENCE", ar: "المرجع")
        case .colHead: Phrase(en: "HEAD OF HOUSEHOLD", fr: "CHEF DE FAMILLE", ar: "ربّ الأسرة")
        case .colPhone: Phrase(en: "PHONE", fr: "TÉLÉPHONE", ar: "الهاتف")
        case .colSize: Phrase(en: "SIZE", fr: "TAILLE", ar: "الأفراد")
        case .colID: Phrase(en: "ID", fr: "IDENTIFIANT", ar: "المعرّف")
        case .reference: Phrase(en: "reference", fr: "référence", ar: "المرجع")
        case .headName: Phrase(en: "head name", fr: "chef de famille", ar: "ربّ الأسرة")
        case .phone: Phrase(en: "phone", fr: "téléphone", ar: "الهاتف")
        case .householdSize: Phrase(en: "household size", fr: "taille du foyer", ar: "عدد الأفراد")
        case .district: Phrase(en: "district", fr: "quartier", ar: "الحي")
        case .address: Phrase(en: "address", fr: "adresse", ar: "العنوان")
        case .notes: Phrase(en: "notes", fr: "remarques", ar: "ملاحظات")
        case .city: Phrase(en: "city", fr: "ville", ar: "المدينة")
        case .association: Phrase(en: "association", fr: "association", ar: "الجمعية")
        case .mergedInto: Phrase(en: "merged into", fr: "fusionnée dans", ar: "مدمجة في")
        case .id: Phrase(en: "id", fr: "identifiant", ar: "المعرّف")
        case .currentValues:
            Phrase(en: "current values of {1}:", fr: "valeurs actuelles de {1} :", ar: "القيم الحالية لـ{1}:")
        case .supersededValues: Phrase(en: "superseded values:", fr: "valeurs remplacées :", ar: "القيم المستبدلة:")
        case .colField: Phrase(en: "FIELD", fr: "CHAMP", ar: "الخانة")
        case .colValue: Phrase(en: "VALUE", fr: "VALEUR", ar: "القيمة")
        case .colWhen: Phrase(en: "WHEN", fr: "QUAND", ar: "متى")
        case .colBy: Phrase(en: "BY", fr: "PAR", ar: "من")
        case .colReplaced: Phrase(en: "REPLACED", fr: "REMPLACÉE", ar: "استُبدلت")
        case .colConflict: Phrase(en: "CONFLICT", fr: "CONFLIT", ar: "تعارض")
        case .yes: Phrase(en: "yes", fr: "oui", ar: "نعم")
        case .thisPhone: Phrase(en: "this phone", fr: "ce téléphone", ar: "هذا الهاتف")
        case .otherDevice:
            Phrase(en: "another device {1}", fr: "un autre appareil {1}", ar: "جهاز آخر {1}")
        }
    }

    /// A family's field, as `family show` and `history` name it (`head_name` → head of household).
    static func field(_ name: String) -> String {
        let known: [String: FamilyText] = [
            "reference": .reference, "head_name": .headName, "phone": .phone, "household_size": .householdSize,
            "district": .district, "address": .address, "notes": .notes, "city": .city,
            "association": .association, "merged_into": .mergedInto, "id": .id,
        ]
        return known[name].map { $0() } ?? name.replacingOccurrences(of: "_", with: " ")
    }
}

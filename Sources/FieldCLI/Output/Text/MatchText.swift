/// Why a family being registered is likely one already registered: each piece of evidence by its kind
/// (the family's row, shown above it, gives the values).
enum MatchText: String, Phrasebook {
    static let book = "match"

    case reference, phone, phoneSlip, phoneDiffers, name, nameDiffers, district, districtDiffers, address
    case sizeSame, sizeDiffers, associationSame, associationDiffers

    var phrase: Phrase {
        switch self {
        case .reference: Phrase(en: "same reference", fr: "même référence", ar: "نفس المرجع")
        case .phone: Phrase(en: "same phone", fr: "même téléphone", ar: "نفس الهاتف")
        case .phoneSlip:
            Phrase(en: "phones one digit apart", fr: "téléphones à un chiffre près", ar: "هاتفان يختلفان برقم واحد")
        case .phoneDiffers: Phrase(en: "different phones", fr: "téléphones différents", ar: "هاتفان مختلفان")
        case .name:
            Phrase(
                en: "the same name (in either script, or another spelling)",
                fr: "le même nom (dans l'une ou l'autre écriture, ou une autre orthographe)",
                ar: "نفس الاسم (بالعربية أو باللاتينية أو بتهجئة أخرى)")
        case .nameDiffers: Phrase(en: "names that differ", fr: "des noms qui diffèrent", ar: "اسمان مختلفان")
        case .district: Phrase(en: "same district", fr: "même quartier", ar: "نفس الحي")
        case .districtDiffers: Phrase(en: "different districts", fr: "quartiers différents", ar: "حيّان مختلفان")
        case .address: Phrase(en: "same address", fr: "même adresse", ar: "نفس العنوان")
        case .sizeSame:
            Phrase(
                en: "the same or a close household size", fr: "une taille de foyer égale ou proche",
                ar: "عدد أفراد مماثل أو قريب")
        case .sizeDiffers:
            Phrase(en: "different household sizes", fr: "tailles de foyer différentes", ar: "عدد أفراد مختلف")
        case .associationSame: Phrase(en: "same association", fr: "même association", ar: "نفس الجمعية")
        case .associationDiffers:
            Phrase(en: "different associations", fr: "associations différentes", ar: "جمعيتان مختلفتان")
        }
    }
}

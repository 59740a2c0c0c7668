/// ArgumentParser's own words in a help or usage message, and the volunteer's commands' usage errors.
enum UsageText: String, Phrasebook {
    static let book = "usage"

    case overview, usage, arguments, options, subcommands, seeHelp, showHelp, showVersion, defaultValue, values
    case moreInformation, errorPrefix, helpPrefix, usagePrefix, missingArgument, unknownOption, unexpectedArgument
    case quantity, overrideReason, reasonEmpty, size, headEmpty, headRequired, referenceEmpty, editNothing
    case enrolOrServer, enrolAlone, serverURL, cityEmpty, batchSize, countOrAll
    case familyOrSheet, overrideSheet, dryRunSheet

    var phrase: Phrase {
        switch self {
        case .overview: Phrase(en: "OVERVIEW:", fr: "APERÇU :", ar: "نظرة عامة:")
        case .usage: Phrase(en: "USAGE:", fr: "UTILISATION :", ar: "الاستعمال:")
        case .arguments: Phrase(en: "ARGUMENTS:", fr: "ARGUMENTS :", ar: "المعطيات:")
        case .options: Phrase(en: "OPTIONS:", fr: "OPTIONS :", ar: "الخيارات:")
        case .subcommands: Phrase(en: "SUBCOMMANDS:", fr: "SOUS-COMMANDES :", ar: "الأوامر الفرعية:")
        case .seeHelp:
            Phrase(
                en: "See '{1} <subcommand>' for detailed help.",
                fr: "Voir '{1} <sous-commande>' pour l'aide détaillée.",
                ar: "للمساعدة المفصلة: '{1} <subcommand>'")
        case .showHelp: Phrase(en: "Show help information.", fr: "Afficher l'aide.", ar: "عرض المساعدة.")
        case .showVersion: Phrase(en: "Show the version.", fr: "Afficher la version.", ar: "عرض الإصدار.")
        case .defaultValue: Phrase(en: "(default: {1})", fr: "(par défaut : {1})", ar: "(افتراضيًا: {1})")
        case .values: Phrase(en: "(values: {1})", fr: "(valeurs : {1})", ar: "(القيم: {1})")
        case .moreInformation:
            Phrase(
                en: "See '{1}' for more information.", fr: "Voir '{1}' pour en savoir plus.",
                ar: "لمزيد من المعلومات: '{1}'")
        case .errorPrefix: Phrase(en: "Error: ", fr: "Erreur : ", ar: "خطأ: ")
        case .helpPrefix: Phrase(en: "Help:  ", fr: "Aide :  ", ar: "مساعدة:  ")
        case .usagePrefix: Phrase(en: "Usage: ", fr: "Utilisation : ", ar: "الاستعمال: ")
        case .missingArgument:
            Phrase(en: "Missing expected argument", fr: "Il manque l'argument", ar: "ينقص المعطى")
        case .unknownOption: Phrase(en: "Unknown option", fr: "Option inconnue", ar: "خيار غير معروف")
        case .unexpectedArgument:
            Phrase(en: "Unexpected argument", fr: "Argument inattendu", ar: "معطى غير متوقع")
        case .quantity:
            Phrase(
                en: "--qty must be at least 1, found {1}.", fr: "--qty doit valoir au moins 1 (reçu : {1}).",
                ar: "يجب أن تكون --qty 1 على الأقل، والمعطى: {1}.")
        case .overrideReason:
            Phrase(
                en: "--override needs a reason.", fr: "--override demande une raison.",
                ar: "الخيار --override يحتاج سببًا.")
        case .reasonEmpty: Phrase(en: "--reason is empty.", fr: "--reason est vide.", ar: "الخيار --reason فارغ.")
        case .size:
            Phrase(
                en: "--size must be at least 1, found {1}.", fr: "--size doit valoir au moins 1 (reçu : {1}).",
                ar: "يجب أن يكون --size 1 على الأقل، والمعطى: {1}.")
        case .headEmpty: Phrase(en: "--head is empty.", fr: "--head est vide.", ar: "الخيار --head فارغ.")
        case .headRequired:
            Phrase(
                en: "--head (the head of household's name) is required.",
                fr: "--head (le nom du chef de famille) est obligatoire.",
                ar: "الخيار --head (اسم ربّ الأسرة) ضروري.")
        case .referenceEmpty:
            Phrase(en: "--reference is empty.", fr: "--reference est vide.", ar: "الخيار --reference فارغ.")
        case .editNothing:
            Phrase(
                en: "Give at least one field to change (--phone, --head, --size, …).",
                fr: "Donnez au moins un champ à modifier (--phone, --head, --size, …).",
                ar: "أعطِ معلومة واحدة على الأقل لتعديلها (--phone، --head، --size، …).")
        case .enrolOrServer:
            Phrase(
                en: "Give --enrol FILE (the enrolment file from your coordinator), or --lang alone.",
                fr: "Donnez --enrol FICHIER (le fichier d'inscription de votre coordinateur), ou --lang seul.",
                ar: "أعطِ --enrol ملف (ملف التسجيل من المنسّق)، أو --lang وحده.")
        case .enrolAlone:
            Phrase(
                en: "--enrol gives the hub's address and the access key: drop --server and --token-file.",
                fr: "--enrol donne l'adresse du hub et la clé d'accès : retirez --server et --token-file.",
                ar: "ملف --enrol يعطي عنوان المركز ومفتاح الدخول: احذف --server و--token-file.")
        case .serverURL:
            Phrase(
                en: "--server must be an http(s) address like https://hub.example.org, found '{1}'.",
                fr: "--server doit être une adresse http(s) comme https://hub.example.org (reçu : '{1}').",
                ar: "يجب أن يكون --server عنوان http(s) مثل https://hub.example.org، والمعطى: '{1}'.")
        case .cityEmpty: Phrase(en: "--city is empty.", fr: "--city est vide.", ar: "الخيار --city فارغ.")
        case .batchSize:
            Phrase(
                en: "--batch-size must be between 1 and 5000, found {1}.",
                fr: "--batch-size doit être entre 1 et 5000 (reçu : {1}).",
                ar: "يجب أن يكون --batch-size بين 1 و5000، والمعطى: {1}.")
        case .countOrAll:
            Phrase(en: "Give --count N or --all.", fr: "Donnez --count N ou --all.", ar: "أعطِ --count N أو --all.")
        case .familyOrSheet:
            Phrase(
                en: "Give --family and --item, or --csv FILE.", fr: "Donnez --family et --item, ou --csv FICHIER.",
                ar: "أعطِ --family و--item، أو --csv ملف.")
        case .overrideSheet:
            Phrase(
                en: "--override is for one delivery, not a sheet.",
                fr: "--override vaut pour une remise, pas une feuille.",
                ar: "الخيار --override لتسليم واحد، لا لورقة.")
        case .dryRunSheet:
            Phrase(
                en: "--dry-run checks a sheet: give --csv FILE.",
                fr: "--dry-run vérifie une feuille : donnez --csv FICHIER.",
                ar: "الخيار --dry-run يفحص ورقة: أعطِ --csv ملف.")
        }
    }
}

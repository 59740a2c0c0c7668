/// What the volunteer reads about this phone or laptop: enrolment, status, and finding a family.
enum DeviceText: String, Phrasebook {
    static let book = "device"

    case error, note, noData, cityUnknown, notEnrolled, familyAmbiguous, familyMissing, familyID
    case cannotReadEnrolment, cannotReadKeyFile, notAKeyFile, keyFileReadable, wrongCity, giveCity
    case notCheckedNow, checked, everyCity, roleDevice, roleHub, roleAdmin, enrolled, languageKept
    case hub, city, volunteer, pending, lastSync, lastError, clock, refused
    case notEnrolledShort, cityUntilSync, pendingCount, never, clockRight, clockCorrected, refusedCount
    case clockVariable

    var phrase: Phrase {
        switch self {
        case .error: Phrase(en: "error: {1}", fr: "erreur : {1}", ar: "خطأ: {1}")
        case .note: Phrase(en: "note: {1}", fr: "remarque : {1}", ar: "ملاحظة: {1}")
        case .noData:
            Phrase(
                en: "Nothing is set up at {1}. Enrol this phone or laptop first: field init --enrol FILE",
                fr: "Rien n'est installé à {1}. Inscrivez d'abord ce téléphone ou cet ordinateur : "
                    + "field init --enrol FICHIER",
                ar: "لا شيء مُعدّ في {1}. سجّل هذا الهاتف أو الحاسوب أولًا: field init --enrol FILE")
        case .cityUnknown:
            Phrase(
                en: "This phone does not know its city yet: run `field sync` once online, or `field init … --city "
                    + "NAME`.",
                fr: "Ce téléphone ne connaît pas encore sa ville : lancez `field sync` une fois en ligne, ou "
                    + "`field init … --city NOM`.",
                ar: "هذا الهاتف لا يعرف مدينته بعد: شغّل `field sync` مرة عند الاتصال بالإنترنت، أو "
                    + "`field init … --city NAME`.")
        case .notEnrolled:
            Phrase(
                en: "This phone is not enrolled with a hub: field init --enrol FILE",
                fr: "Ce téléphone n'est inscrit auprès d'aucun hub : field init --enrol FICHIER",
                ar: "هذا الهاتف غير مسجّل لدى أي مركز: field init --enrol FILE")
        case .familyAmbiguous:
            Phrase(
                en: "'{1}' could be any of {2} families: {3}. Give the reference exactly as it is written, or the id.",
                fr: "'{1}' peut désigner {2} familles : {3}. Donnez la référence exactement comme elle est écrite, "
                    + "ou l'identifiant.",
                ar: "'{1}' قد تعني أيًّا من {2} أسر: {3}. أعطِ المرجع كما هو مكتوب بالضبط، أو المعرّف.")
        case .familyMissing:
            Phrase(
                en: "No family '{1}' on this phone. Find it with: field family list --search TEXT",
                fr: "Aucune famille '{1}' sur ce téléphone. Cherchez-la avec : field family list --search TEXTE",
                ar: "لا توجد أسرة '{1}' على هذا الهاتف. ابحث عنها بالأمر: field family list --search TEXT")
        case .familyID: Phrase(en: "{1} (id {2})", fr: "{1} (identifiant {2})", ar: "{1} (المعرّف {2})")
        case .cannotReadEnrolment:
            Phrase(
                en: "Cannot read the enrolment file {1}. Ask your coordinator for yours.",
                fr: "Impossible de lire le fichier d'inscription {1}. Demandez le vôtre à votre coordinateur.",
                ar: "تعذّرت قراءة ملف التسجيل {1}. اطلب ملفك من المنسّق.")
        case .cannotReadKeyFile:
            Phrase(
                en: "Cannot read the access key file {1}. Ask your hub operator for this phone's access key.",
                fr: "Impossible de lire le fichier de clé d'accès {1}. Demandez la clé de ce téléphone au "
                    + "responsable du hub.",
                ar: "تعذّرت قراءة ملف مفتاح الدخول {1}. اطلب مفتاح هذا الهاتف من مسيّر المركز.")
        case .notAKeyFile:
            Phrase(
                en: "{1} does not hold an access key (one line, no spaces).",
                fr: "{1} ne contient pas de clé d'accès (une ligne, sans espaces).",
                ar: "الملف {1} لا يحتوي مفتاح دخول (سطر واحد دون مسافات).")
        case .keyFileReadable:
            Phrase(
                en: "{1} can be read by other users of this computer; the access key is now kept in FieldSync's "
                    + "data (readable by you only), so delete the file, or run 'chmod 600 {1}'.",
                fr: "{1} peut être lu par d'autres utilisateurs de cet ordinateur ; la clé d'accès est maintenant "
                    + "gardée dans les données de FieldSync (lisibles par vous seul) : supprimez le fichier, ou "
                    + "lancez 'chmod 600 {1}'.",
                ar: "يمكن لمستخدمين آخرين لهذا الحاسوب قراءة {1}؛ مفتاح الدخول محفوظ الآن في بيانات FieldSync "
                    + "(لا يقرؤها غيرك)، فاحذف الملف أو شغّل 'chmod 600 {1}'.")
        case .wrongCity:
            Phrase(
                en: "This enrolment is for {1}, not {2}. Check the enrolment file or --city.",
                fr: "Cette inscription est pour {1}, pas {2}. Vérifiez le fichier d'inscription ou --city.",
                ar: "هذا التسجيل خاص بـ{1} وليس {2}. تحقّق من ملف التسجيل أو من --city.")
        case .giveCity:
            Phrase(
                en: "give --city, or sync once online, before registering families.",
                fr: "donnez --city, ou synchronisez une fois en ligne, avant d'enregistrer des familles.",
                ar: "أعطِ --city، أو زامن مرة عند الاتصال، قبل تسجيل الأسر.")
        case .notCheckedNow:
            Phrase(
                en: "the hub is not reachable now; it is checked at the first sync",
                fr: "le hub ne répond pas pour l'instant ; il sera vérifié à la première synchronisation",
                ar: "المركز غير متاح الآن؛ سيُتحقَّق منه في أول مزامنة")
        case .checked:
            Phrase(
                en: "checked: {1} access for {2}", fr: "vérifié : accès {1} pour {2}", ar: "تم التحقق: صلاحية {1} لـ{2}"
            )
        case .everyCity: Phrase(en: "every city", fr: "toutes les villes", ar: "كل المدن")
        case .roleDevice: Phrase(en: "volunteer", fr: "bénévole", ar: "متطوع")
        case .roleHub: Phrase(en: "hub", fr: "hub", ar: "مركز")
        case .roleAdmin: Phrase(en: "admin", fr: "administration", ar: "إدارة")
        case .enrolled:
            Phrase(
                en: "enrolled: data kept in {1}, hub {2}, {3}", fr: "inscrit : données gardées dans {1}, hub {2}, {3}",
                ar: "تم التسجيل: البيانات محفوظة في {1}، المركز {2}، {3}")
        case .languageKept:
            Phrase(
                en: "language of this phone: {1}", fr: "langue de ce téléphone : {1}", ar: "لغة هذا الهاتف: {1}")
        case .hub: Phrase(en: "hub:", fr: "hub :", ar: "المركز:")
        case .city: Phrase(en: "city:", fr: "ville :", ar: "المدينة:")
        case .volunteer: Phrase(en: "volunteer:", fr: "bénévole :", ar: "المتطوع:")
        case .pending: Phrase(en: "pending:", fr: "en attente :", ar: "في الانتظار:")
        case .lastSync: Phrase(en: "last sync:", fr: "dernière synchro :", ar: "آخر مزامنة:")
        case .lastError: Phrase(en: "last error:", fr: "dernière erreur :", ar: "آخر خطأ:")
        case .clock: Phrase(en: "clock:", fr: "horloge :", ar: "الساعة:")
        case .refused: Phrase(en: "refused:", fr: "refusés :", ar: "مرفوض:")
        case .notEnrolledShort: Phrase(en: "(not enrolled)", fr: "(pas inscrit)", ar: "(غير مسجّل)")
        case .cityUntilSync:
            Phrase(
                en: "(unknown until the first sync)", fr: "(inconnue jusqu'à la première synchronisation)",
                ar: "(غير معروفة حتى أول مزامنة)")
        case .pendingCount:
            Phrase(
                en: "{1} changes not yet sent", fr: "{1} changements pas encore envoyés",
                ar: "{1} تغييرات لم تُرسل بعد")
        case .never: Phrase(en: "never", fr: "jamais", ar: "أبدًا")
        case .clockRight: Phrase(en: "right", fr: "à l'heure", ar: "مضبوطة")
        case .clockCorrected:
            Phrase(en: "corrected by {1} s", fr: "corrigée de {1} s", ar: "مصحَّحة بـ{1} ثانية")
        case .refusedCount:
            Phrase(
                en: "{1} records the hub would not take (kept here, not sent again)",
                fr: "{1} enregistrements que le hub n'a pas acceptés (gardés ici, pas renvoyés)",
                ar: "{1} سجلات لم يقبلها المركز (محفوظة هنا، ولن تُرسل مرة أخرى)")
        case .clockVariable:
            Phrase(
                en: "{1} must be a whole number of milliseconds (like -31536000000), found '{2}'.",
                fr: "{1} doit être un nombre entier de millisecondes (comme -31536000000) ; reçu '{2}'.",
                ar: "يجب أن يكون {1} عددًا صحيحًا من الميلي ثانية (مثل -31536000000)، والمعطى '{2}'.")
        }
    }

    /// The role of an access key, as the volunteer says it.
    static func role(_ role: String?) -> String {
        switch role {
        case "device": roleDevice()
        case "hub": roleHub()
        case "admin": roleAdmin()
        default: role ?? "?"
        }
    }

    /// `label` padded to `width` characters, then `value`: a line of `field status`.
    static func row(_ label: DeviceText, _ value: String, width: Int) -> String {
        let text = label()
        return text + String(repeating: " ", count: max(1, width - text.count)) + value
    }
}

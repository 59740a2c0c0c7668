/// The volunteer's commands' help: what each does, and examples (ArgumentParser's own words are in
/// ``UsageText``).
enum HelpText: String, Phrasebook {
    static let book = "help"

    case field, fieldDiscussion
    case initAbstract, initDiscussion
    case family, familyAdd, familyAddDiscussion, familyList, familyShow, familyEdit, familyDelete
    case deliver, deliverDiscussion, void, history, sync, syncDiscussion, status
    case catalogue, vouchers, vouchersList, vouchersReturn, example, examples, stock

    var phrase: Phrase {
        switch self {
        case .field:
            Phrase(
                en: "FieldSync for volunteers, hub operators and the admin.",
                fr: "FieldSync pour les bénévoles, les responsables de hub et l'administration.",
                ar: "FieldSync للمتطوعين ومسيّري المراكز والإدارة.")
        case .fieldDiscussion:
            Phrase(
                en: """
                    Works offline: every command but `sync` (and the checks of `init`) uses only what this phone or
                    laptop holds.
                    Exit codes: 0 done, 1 the operation failed (the message says why and what to do), 2 bad usage.
                    Language: --lang fr|ar|en for one command; `field init --lang ar` keeps it; otherwise LANG.
                    """,
                fr: """
                    Fonctionne sans réseau : toutes les commandes sauf `sync` (et les vérifications de `init`)
                    n'utilisent que ce que ce téléphone ou cet ordinateur contient.
                    Codes de sortie : 0 fait, 1 l'opération a échoué (le message dit pourquoi et que faire),
                    2 mauvaise utilisation.
                    Langue : --lang fr|ar|en pour une commande ; `field init --lang fr` la garde ; sinon LANG.
                    """,
                ar: """
                    يعمل دون إنترنت: كل الأوامر ما عدا `sync` (وتحققات `init`) تستعمل فقط ما يحفظه هذا الهاتف أو الحاسوب.
                    رموز الخروج: 0 تمّ، 1 فشلت العملية (الرسالة تشرح السبب وما يجب فعله)، 2 استعمال خاطئ.
                    اللغة: --lang fr|ar|en لأمر واحد؛ `field init --lang ar` يحفظها؛ وإلا فحسب LANG.
                    """)
        case .initAbstract:
            Phrase(
                en: "Enrol this phone or laptop with its hub, from the enrolment file your coordinator gave you.",
                fr: "Inscrire ce téléphone ou cet ordinateur auprès de son hub, avec le fichier d'inscription de "
                    + "votre coordinateur.",
                ar: "تسجيل هذا الهاتف أو الحاسوب لدى مركزه، بملف التسجيل الذي سلّمه لك المنسّق.")
        case .initDiscussion:
            Phrase(
                en: """
                    Works offline: the hub is checked now if it is reachable, otherwise at the first sync (give
                    --city then). Run again offline, it keeps the city and volunteer it knew.
                    `field init --lang fr` alone changes only the language of this phone or laptop.
                    """,
                fr: """
                    Fonctionne sans réseau : le hub est vérifié maintenant s'il répond, sinon à la première
                    synchronisation (donnez alors --city). Relancée hors ligne, elle garde la ville et le bénévole
                    qu'elle connaissait.
                    `field init --lang fr` seul ne change que la langue de ce téléphone ou de cet ordinateur.
                    """,
                ar: """
                    يعمل دون إنترنت: يُتحقَّق من المركز الآن إن كان متاحًا، وإلا ففي أول مزامنة (أعطِ --city حينها).
                    إن أعدت تشغيله دون إنترنت يحتفظ بالمدينة والمتطوع اللذين يعرفهما.
                    الأمر `field init --lang ar` وحده يغيّر لغة هذا الهاتف أو الحاسوب فقط.
                    """)
        case .family:
            Phrase(
                en: "Register, find, show, edit and delete families (offline).",
                fr: "Enregistrer, chercher, afficher, modifier et supprimer des familles (hors ligne).",
                ar: "تسجيل الأسر والبحث عنها وعرضها وتعديلها وحذفها (دون إنترنت).")
        case .familyAdd:
            Phrase(
                en: "Register a family; likely duplicates are shown first.",
                fr: "Enregistrer une famille ; les doublons probables sont montrés d'abord.",
                ar: "تسجيل أسرة؛ تُعرض أولًا الأسر المسجلة التي يُرجَّح أنها نفسها.")
        case .familyAddDiscussion:
            Phrase(
                en: """
                    A family of the city that is likely the same (same reference or phone, the name in either script
                    or another spelling, the district and household) is shown with its evidence, and the family is
                    not added unless --force is given.
                    """,
                fr: """
                    Une famille de la ville qui est probablement la même (même référence ou téléphone, le nom dans
                    l'une ou l'autre écriture ou une autre orthographe, le quartier et le foyer) est montrée avec
                    ses indices, et la famille n'est pas ajoutée sans --force.
                    """,
                ar: """
                    إن وُجدت في المدينة أسرة يُرجَّح أنها نفسها (نفس المرجع أو الهاتف، أو الاسم بالعربية أو باللاتينية
                    أو بتهجئة أخرى، والحي وعدد أفراد الأسرة) تُعرض مع القرائن، ولا تُضاف الأسرة إلا مع --force.
                    """)
        case .familyList:
            Phrase(
                en: "List families, or search them by name, phone or reference.",
                fr: "Lister les familles, ou les chercher par nom, téléphone ou référence.",
                ar: "عرض قائمة الأسر، أو البحث عنها بالاسم أو الهاتف أو المرجع.")
        case .familyShow:
            Phrase(
                en: "Show a family and its deliveries.", fr: "Afficher une famille et ses distributions.",
                ar: "عرض أسرة وما سُلّم لها.")
        case .familyEdit:
            Phrase(en: "Change fields of a family.", fr: "Modifier une famille.", ar: "تعديل بيانات أسرة.")
        case .familyDelete:
            Phrase(
                en: "Delete a family (its deliveries stay, for the record).",
                fr: "Supprimer une famille (ses distributions restent, pour mémoire).",
                ar: "حذف أسرة (يبقى ما سُلّم لها محفوظًا في السجل).")
        case .deliver:
            Phrase(
                en: "Log a delivery to a family (offline); checks the entitlement rules this phone or laptop has.",
                fr: "Noter une distribution à une famille (hors ligne) ; vérifie les règles de droits connues ici.",
                ar: "تسجيل تسليم لأسرة (دون إنترنت)؛ مع التحقق من قواعد الاستحقاق المعروفة على هذا الجهاز.")
        case .deliverDiscussion:
            Phrase(
                en: """
                    A delivery that would break a rule (the family already received the item this campaign) is
                    refused with the evidence, unless --override "reason" is given (the reason is kept with the
                    delivery).
                    """,
                fr: """
                    Une distribution qui enfreindrait une règle (la famille a déjà reçu l'article pendant cette
                    campagne) est refusée avec les preuves, sauf avec --override "raison" (la raison est gardée
                    avec la distribution).
                    """,
                ar: """
                    يُرفض التسليم الذي يخالف قاعدة (الأسرة تسلّمت هذا الصنف في هذه الحملة) مع عرض الدليل، إلا إذا
                    أُعطي --override "السبب" (يُحفظ السبب مع التسليم).
                    """)
        case .stock:
            Phrase(
                en: "What your hub has left of each item, as of this device's last sync.",
                fr: "Ce qu'il reste à votre hub de chaque article, à la dernière synchronisation de cet appareil.",
                ar: "ما تبقّى لدى مركزك من كل مادة، حسب آخر مزامنة لهذا الجهاز.")
        case .void:
            Phrase(
                en: "Void a delivery logged by mistake (a new record; nothing is erased).",
                fr: "Annuler une distribution notée par erreur (un nouvel enregistrement ; rien n'est effacé).",
                ar: "إلغاء تسليم سُجّل خطأً (يُضاف سجل جديد؛ لا يُمحى شيء).")
        case .history:
            Phrase(
                en: "Every change of a family: current values with who and when, and superseded values.",
                fr: "Chaque modification d'une famille : valeurs actuelles avec qui et quand, et valeurs remplacées.",
                ar: "كل تغيير في بيانات أسرة: القيم الحالية مع من غيّرها ومتى، والقيم التي استُبدلت.")
        case .sync:
            Phrase(
                en: "Send this phone's changes to the hub and get its city's changes.",
                fr: "Envoyer au hub les changements de ce téléphone et recevoir ceux de sa ville.",
                ar: "إرسال تغييرات هذا الهاتف إلى المركز واستلام تغييرات مدينته.")
        case .syncDiscussion:
            Phrase(
                en: """
                    Resumes where a cut sync stopped; nothing is lost or sent twice. A wrong clock is corrected
                    and the times of the changes not yet sent are repaired.
                    """,
                fr: """
                    Reprend là où une synchronisation coupée s'est arrêtée ; rien n'est perdu ni envoyé deux fois.
                    Une horloge fausse est corrigée et l'heure des changements pas encore envoyés est réparée.
                    """,
                ar: """
                    تستأنف من حيث توقفت مزامنة مقطوعة؛ لا يضيع شيء ولا يُرسل مرتين. تُصحَّح الساعة الخاطئة ويُصلَح
                    توقيت التغييرات التي لم تُرسل بعد.
                    """)
        case .status:
            Phrase(
                en: "Changes not yet sent, last sync, clock, hub.",
                fr: "Changements pas encore envoyés, dernière synchronisation, horloge, hub.",
                ar: "التغييرات التي لم تُرسل بعد، آخر مزامنة، الساعة، المركز.")
        case .catalogue:
            Phrase(
                en: "The items you may hand out and the campaigns open today (from the admin, by sync).",
                fr: "Les articles à distribuer et les campagnes ouvertes aujourd'hui (de l'administration, par "
                    + "synchronisation).",
                ar: "الأصناف التي يمكنك تسليمها والحملات المفتوحة اليوم (من الإدارة، عبر المزامنة).")
        case .vouchers:
            Phrase(
                en: "The recharge codes this phone holds; give unused ones back.",
                fr: "Les codes de recharge de ce téléphone ; rendre ceux qui ne servent pas.",
                ar: "رموز التعبئة التي يحملها هذا الهاتف؛ وإرجاع غير المستعمل منها.")
        case .vouchersList:
            Phrase(
                en: "The unused codes this phone holds.", fr: "Les codes inutilisés de ce téléphone.",
                ar: "الرموز غير المستعملة على هذا الهاتف.")
        case .vouchersReturn:
            Phrase(
                en: "Give unused codes back to the hub.", fr: "Rendre des codes inutilisés au hub.",
                ar: "إرجاع رموز غير مستعملة إلى المركز.")
        case .example: Phrase(en: "Example:", fr: "Exemple :", ar: "مثال:")
        case .examples: Phrase(en: "Examples:", fr: "Exemples :", ar: "أمثلة:")
        }
    }

    /// A discussion: this text as one paragraph (ArgumentParser wraps it to the terminal's width), then the
    /// examples (commands are the same in every language).
    static func discussion(_ text: HelpText?, examples: [String]) -> String {
        let head = examples.count == 1 ? HelpText.example() : HelpText.examples()
        let paragraph = text.map { $0().replacingOccurrences(of: "\n", with: " ") }
        return ([paragraph].compactMap { $0 } + [head] + examples.map { "  " + $0 }).joined(separator: "\n")
    }
}

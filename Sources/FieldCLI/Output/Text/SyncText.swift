/// What the volunteer reads about a sync, and the hub's or the network's failures.
enum SyncText: String, Phrasebook {
    static let book = "sync"

    case progress, synced, clockRepaired, clockOff, refusedAfterSync, storageFull
    case offline, dns, timeout, tls, connectionLost, revoked, forbidden, refusedRequest, hubFull, hubFailed
    case invalidResponse, settings, damaged, failed

    var phrase: Phrase {
        switch self {
        case .progress:
            Phrase(
                en: "syncing: sent {1}, received {2}", fr: "synchronisation : {1} envoyés, {2} reçus",
                ar: "المزامنة جارية: أُرسل {1}، استُلم {2}")
        case .synced:
            Phrase(
                en: "synced: sent {1}, received {2}, {3} conflicts, {4} bytes in {5} round trips, {6} ms",
                fr: "synchronisé : {1} envoyés, {2} reçus, {3} conflits, {4} octets en {5} allers-retours, {6} ms",
                ar: "تمت المزامنة: أُرسل {1}، استُلم {2}، {3} تعارضات، {4} بايت في {5} ذهابًا وإيابًا، {6} ms")
        case .clockRepaired:
            Phrase(
                en: "this phone's clock was off by {1} s: {2} changes not yet sent had their times repaired. Set the "
                    + "phone's date and time automatically.",
                fr: "l'horloge de ce téléphone avait {1} s d'écart : l'heure de {2} changements pas encore envoyés "
                    + "a été réparée. Réglez la date et l'heure du téléphone en automatique.",
                ar: "كانت ساعة هذا الهاتف منحرفة بـ{1} ثانية: أُصلح توقيت {2} تغييرات لم تُرسل بعد. اضبط التاريخ "
                    + "والوقت على الوضع التلقائي.")
        case .clockOff:
            Phrase(
                en: "this phone's clock is off by {1} s; FieldSync corrects for it.",
                fr: "l'horloge de ce téléphone a {1} s d'écart ; FieldSync la corrige.",
                ar: "ساعة هذا الهاتف منحرفة بـ{1} ثانية؛ يصحّحها FieldSync.")
        case .refusedAfterSync:
            Phrase(
                en: "{1} records were refused by the hub and kept here: `field status` shows them and why.",
                fr: "{1} enregistrements ont été refusés par le hub et gardés ici : `field status` les montre avec "
                    + "la raison.",
                ar: "رفض المركز {1} سجلات وهي محفوظة هنا: الأمر `field status` يعرضها مع السبب.")
        case .storageFull:
            Phrase(
                en: "This phone's storage is full: the sync stopped, and everything it had received is kept (nothing "
                    + "is lost). Free some space (old photos, videos, unused apps), then run `field sync` again.",
                fr: "La mémoire de ce téléphone est pleine : la synchronisation s'est arrêtée, et tout ce qu'elle "
                    + "avait reçu est gardé (rien n'est perdu). Libérez de la place (vieilles photos, vidéos, "
                    + "applications inutiles), puis relancez `field sync`.",
                ar: "ذاكرة هذا الهاتف ممتلئة: توقفت المزامنة، وكل ما استُلم محفوظ (لم يضع شيء). أفرغ بعض المساحة "
                    + "(صور أو فيديوهات قديمة، تطبيقات غير مستعملة)، ثم شغّل `field sync` من جديد.")
        case .offline:
            Phrase(
                en: "Cannot reach the server at {1}. You may be offline, or the server is down: your changes are "
                    + "kept on this phone; sync again when you have a signal.",
                fr: "Impossible de joindre le serveur {1}. Vous êtes peut-être hors ligne, ou le serveur est arrêté : "
                    + "vos changements sont gardés sur ce téléphone ; synchronisez quand vous aurez du réseau.",
                ar: "تعذّر الوصول إلى الخادم {1}. ربما أنت دون إنترنت أو الخادم متوقف: تغييراتك محفوظة على هذا "
                    + "الهاتف؛ زامن من جديد حين تتوفر الشبكة.")
        case .dns:
            Phrase(
                en: "Cannot find the server {1}. Check the address, or your connection.",
                fr: "Serveur {1} introuvable. Vérifiez l'adresse, ou votre connexion.",
                ar: "تعذّر إيجاد الخادم {1}. تحقّق من العنوان أو من اتصالك.")
        case .timeout:
            Phrase(
                en: "The server at {1} did not answer in time, or the link is too slow. Your changes are kept; sync "
                    + "again where the signal is better.",
                fr: "Le serveur {1} n'a pas répondu à temps, ou la liaison est trop lente. Vos changements sont "
                    + "gardés ; synchronisez là où le réseau est meilleur.",
                ar: "لم يجب الخادم {1} في الوقت المناسب، أو الاتصال بطيء جدًا. تغييراتك محفوظة؛ زامن من جديد حيث "
                    + "تكون الشبكة أفضل.")
        case .tls:
            Phrase(
                en: "The secure connection to {1} failed: check this phone's date and the server's address, or give "
                    + "the right --ca-file.",
                fr: "La connexion sécurisée à {1} a échoué : vérifiez la date de ce téléphone et l'adresse du "
                    + "serveur, ou donnez le bon --ca-file.",
                ar: "فشل الاتصال الآمن بـ{1}: تحقّق من تاريخ هذا الهاتف ومن عنوان الخادم، أو أعطِ --ca-file الصحيح.")
        case .connectionLost:
            Phrase(
                en: "The connection to {1} broke. Nothing is lost: the sync resumes where it stopped.",
                fr: "La connexion à {1} a été coupée. Rien n'est perdu : la synchronisation reprendra où elle "
                    + "s'est arrêtée.",
                ar: "انقطع الاتصال بـ{1}. لم يضع شيء: تُستأنف المزامنة من حيث توقفت.")
        case .revoked:
            Phrase(
                en: "The server no longer accepts this phone's access key: it may have been revoked. Ask your "
                    + "coordinator for a new enrolment file.",
                fr: "Le serveur n'accepte plus la clé d'accès de ce téléphone : elle a peut-être été révoquée. "
                    + "Demandez un nouveau fichier d'inscription à votre coordinateur.",
                ar: "لم يعد الخادم يقبل مفتاح دخول هذا الهاتف: ربما أُلغي. اطلب ملف تسجيل جديدًا من المنسّق.")
        case .forbidden:
            Phrase(
                en: "Not allowed ({1}): ask your coordinator.", fr: "Pas autorisé ({1}) : voyez votre coordinateur.",
                ar: "غير مسموح ({1}): راجع المنسّق.")
        case .refusedRequest:
            Phrase(
                en: "The server refused the request (HTTP {1}, {2}).",
                fr: "Le serveur a refusé la requête (HTTP {1}, "
                    + "{2}).", ar: "رفض الخادم الطلب (HTTP {1}، {2}).")
        case .hubFull:
            Phrase(
                en: "The server is out of storage space: it kept nothing of this request, and nothing is lost: the "
                    + "changes stay on this phone. Sync again later; if this lasts, tell your coordinator ({1}).",
                fr: "Le serveur n'a plus de place : il n'a rien gardé de cette requête, et rien n'est perdu : les "
                    + "changements restent sur ce téléphone. Synchronisez plus tard ; si cela dure, prévenez votre "
                    + "coordinateur ({1}).",
                ar: "لم تبق مساحة تخزين في الخادم: لم يحفظ شيئًا من هذا الطلب، ولم يضع شيء: التغييرات باقية على هذا "
                    + "الهاتف. زامن لاحقًا؛ وإن استمر ذلك فأخبر المنسّق ({1}).")
        case .hubFailed:
            Phrase(
                en: "The server failed (HTTP {1}). Try again later; nothing is lost.",
                fr: "Le serveur a échoué (HTTP {1}). Réessayez plus tard ; rien n'est perdu.",
                ar: "تعطّل الخادم (HTTP {1}). أعد المحاولة لاحقًا؛ لم يضع شيء.")
        case .invalidResponse:
            Phrase(
                en: "The server's answer was not understood. Try again later; if this lasts, tell your coordinator.",
                fr: "La réponse du serveur n'a pas été comprise. Réessayez plus tard ; si cela dure, prévenez votre "
                    + "coordinateur.",
                ar: "لم تُفهم إجابة الخادم. أعد المحاولة لاحقًا؛ وإن استمر ذلك فأخبر المنسّق.")
        case .settings:
            Phrase(
                en: "The connection settings of this phone are wrong ({1}): check the server's address and --ca-file.",
                fr: "Les réglages de connexion de ce téléphone sont faux ({1}) : vérifiez l'adresse du serveur et "
                    + "--ca-file.",
                ar: "إعدادات الاتصال في هذا الهاتف خاطئة ({1}): تحقّق من عنوان الخادم ومن --ca-file.")
        case .damaged:
            Phrase(
                en: "The file {1} is not FieldSync's data, or it is damaged: ask your coordinator before doing "
                    + "anything else.",
                fr: "Le fichier {1} n'est pas une donnée FieldSync, ou il est endommagé : voyez votre coordinateur "
                    + "avant toute autre chose.",
                ar: "الملف {1} ليس من بيانات FieldSync أو هو تالف: راجع المنسّق قبل أي شيء آخر.")
        case .failed:
            Phrase(
                en: "The operation failed ({1}). Details for your coordinator: {2}",
                fr: "L'opération a échoué ({1}). Détails pour votre coordinateur : {2}",
                ar: "فشلت العملية ({1}). تفاصيل للمنسّق: {2}")
        }
    }
}

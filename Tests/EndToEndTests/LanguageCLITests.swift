import Foundation
import Testing

/// `field` in French and Arabic (decision record 0018): the volunteer's commands speak the language chosen
/// by `--lang`, the device's saved choice or the environment, in that order; JSON keeps its English keys;
/// every phrase exists in every language and uses the volunteer's words.
@Suite("field in French and Arabic", .serialized)
struct LanguageCLITests {
    static let french = ["LANG": "fr_MA.UTF-8"]
    static let arabic = ["LANG": "ar_MA.UTF-8"]

    struct Setup {
        let directory: URL
        let server: ServerProcess
        let db: String
        let adminDB: String

        func field(_ arguments: [String], _ locale: [String: String] = [:]) throws -> CommandResult {
            try run(Binaries.field, arguments + ["--db", db], locale: locale)
        }

        func admin(_ arguments: [String]) throws -> CommandResult {
            try run(Binaries.field, arguments + ["--db", adminDB])
        }

        func stop() {
            server.stop()
            try? FileManager.default.removeItem(at: directory)
        }
    }

    /// A hub, a volunteer's device enrolled in `locale`, and the admin's (in English).
    static func setUp(_ locale: [String: String]) throws -> (Setup, CommandResult) {
        let directory = try temporaryDirectory()
        let hub = directory.appendingPathComponent("hub.db").path
        let token = try issueToken(db: hub, role: "device", city: "Fès", name: "amina", directory: directory)
        let admin = try issueToken(db: hub, role: "admin", city: nil, name: "admin", directory: directory)
        let server = try ServerProcess(database: hub)
        let setup = Setup(
            directory: directory, server: server, db: directory.appendingPathComponent("amina.db").path,
            adminDB: directory.appendingPathComponent("admin.db").path)
        let enrolled = try setup.field(["init", "--server", server.url, "--token-file", token.file], locale)
        #expect(enrolled.status == 0, "\(enrolled.stderr)")
        #expect(try setup.admin(["init", "--server", server.url, "--token-file", admin.file]).status == 0)
        return (setup, enrolled)
    }

    static func hasArabic(_ text: String) -> Bool {
        text.unicodeScalars.contains { (0x0600...0x06FF).contains($0.value) }
    }

    /// Every English phrase `texts` must not hold (the volunteer's commands in another language).
    static func expectNoEnglish(_ text: String, _ english: [String], _ context: String) {
        for phrase in english { #expect(!text.contains(phrase), "\(context): '\(phrase)' in \(text)") }
    }

    /// The volunteer's day in `locale`: help, a delivery, a refusal with its evidence, a sync, the status.
    func day(
        _ locale: [String: String], enrolled words: [String], help: [String], delivered: [String],
        refused: [String], unknownItem: [String], synced: [String], status: [String]
    ) throws {
        let (setup, enrolled) = try Self.setUp(locale)
        defer { setup.stop() }
        let arabic = locale == Self.arabic
        for word in words { #expect(enrolled.stdout.contains(word), "\(enrolled.stdout)") }
        Self.expectNoEnglish(enrolled.stdout, ["enrolled:", "checked:", "token"], "init")
        // Help, with ArgumentParser's own words translated.
        let deliverHelp = try run(Binaries.field, ["deliver", "--help"], locale: locale)
        #expect(deliverHelp.status == 0)
        for word in help { #expect(deliverHelp.stdout.contains(word), "\(deliverHelp.stdout)") }
        Self.expectNoEnglish(
            deliverHelp.stdout, ["USAGE:", "OPTIONS:", "Show help information.", "Log a delivery", "Examples:"],
            "help")
        let rootHelp = try run(Binaries.field, ["--help"], locale: locale)
        Self.expectNoEnglish(rootHelp.stdout, ["SUBCOMMANDS:", "for detailed help", "Works offline"], "field --help")
        if arabic { #expect(Self.hasArabic(deliverHelp.stdout) && Self.hasArabic(rootHelp.stdout)) }
        // The admin's rule reaches the device; a delivery, then the same one refused with its evidence.
        #expect(
            try setup.admin(["admin", "rule", "set", "--item", "food_pack", "--campaign", "w", "--max", "1"]).status
                == 0)
        #expect(try setup.admin(["sync"]).status == 0)
        #expect(try setup.field(["sync"], locale).status == 0)
        #expect(try setup.field(["family", "add", "--reference", "FES-1", "--head", "Fatma"], locale).status == 0)
        let first = try setup.field(["deliver", "--family", "FES-1", "--item", "food_pack", "--campaign", "w"], locale)
        #expect(first.status == 0, "\(first.stderr)")
        for word in delivered { #expect(first.stdout.contains(word), "\(first.stdout)") }
        Self.expectNoEnglish(first.stdout, ["logged", "Food pack"], "deliver")
        let second = try setup.field(
            ["deliver", "--family", "FES-1", "--item", "food_pack", "--campaign", "w"], locale)
        #expect(second.status == 1)
        for word in refused + ["FES-1", "amina", "--override"] {
            #expect(second.stderr.contains(word), "\(second.stderr)")
        }
        Self.expectNoEnglish(second.stderr, ["Rule:", "Not logged", "Already delivered", "error:", "WHEN"], "refusal")
        // A domain rule's refusal, worded from its code.
        let bread = try setup.field(["deliver", "--family", "FES-1", "--item", "bread", "--campaign", "w"], locale)
        #expect(bread.status == 1)
        for word in unknownItem { #expect(bread.stderr.contains(word), "\(bread.stderr)") }
        Self.expectNoEnglish(bread.stderr, ["is not an item of the catalogue"], "unknown item")
        // Sync and status.
        let sync = try setup.field(["sync"], locale)
        #expect(sync.status == 0, "\(sync.stderr)")
        for word in synced { #expect(sync.stdout.contains(word), "\(sync.stdout)") }
        Self.expectNoEnglish(sync.stdout, ["synced:", "round trips"], "sync")
        let shown = try setup.field(["status"], locale)
        #expect(shown.status == 0)
        for word in status { #expect(shown.stdout.contains(word), "\(shown.stdout)") }
        Self.expectNoEnglish(shown.stdout, ["pending:", "last sync:", "changes not yet sent", "server:"], "status")
        if arabic {
            for output in [first.stdout, second.stderr, bread.stderr, sync.stdout, shown.stdout] {
                #expect(Self.hasArabic(output), "\(output)")
            }
        }
        // JSON keeps its English keys and machine values.
        let json = try setup.field(
            ["deliver", "--family", "FES-1", "--item", "food_pack", "--campaign", "s", "--json"], locale)
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(object?["item"] as? String == "food_pack" && object?["id"] is String, "\(json.stdout)")
    }

    @Test func french() throws {
        try day(
            Self.french, enrolled: ["inscrit", "vérifié : accès bénévole pour Fès"],
            help: ["UTILISATION :", "OPTIONS :", "Noter une distribution", "Afficher l'aide.", "Exemples :"],
            delivered: ["noté : 1 Panier alimentaire pour FES-1"],
            refused: [
                "Règle : au plus 1 Panier alimentaire par famille pendant w", "Déjà distribué à FES-1", "erreur :",
                "Pas notée", "QUAND",
            ],
            unknownItem: ["'bread' n'est pas un article du catalogue"],
            synced: ["synchronisé :", "envoyés", "reçus"],
            status: ["en attente :", "0 changements pas encore envoyés", "dernière synchro :", "horloge :"])
    }

    @Test func arabic() throws {
        try day(
            Self.arabic, enrolled: ["تم التسجيل", "صلاحية متطوع لـFès"],
            help: ["الاستعمال:", "الخيارات:", "تسجيل تسليم لأسرة", "عرض المساعدة.", "أمثلة:"],
            delivered: ["سُجّل: قفة غذائية × 1 للأسرة FES-1"],
            refused: [
                "القاعدة: قفة غذائية: 1 على الأكثر لكل أسرة في حملة w", "سبق التسليم إلى FES-1", "خطأ:",
                "لم يُسجَّل", "متى",
            ],
            unknownItem: ["'bread' ليس صنفًا من الكتالوج"],
            synced: ["تمت المزامنة:", "أُرسل", "استُلم"],
            status: ["في الانتظار:", "0 تغييرات لم تُرسل بعد", "آخر مزامنة:", "الساعة:"])
    }

    /// `--lang` beats the saved choice, which beats `LC_ALL`, which beats `LANG`; nothing: English.
    @Test func theLanguageIsChosenInOrder() throws {
        let (setup, _) = try Self.setUp(["LANG": "C.UTF-8"])
        defer { setup.stop() }
        func pending(_ arguments: [String], _ locale: [String: String]) throws -> String {
            let result = try setup.field(["status"] + arguments, locale)
            #expect(result.status == 0, "\(result.stderr)")
            return result.stdout
        }
        #expect(try pending([], [:]).contains("pending:"))
        #expect(try pending([], ["LANG": "C"]).contains("pending:"))
        #expect(try pending([], Self.french).contains("en attente :"))
        #expect(try pending([], ["LANG": "fr_FR.UTF-8", "LC_ALL": "ar_MA.UTF-8"]).contains("في الانتظار:"))
        #expect(try pending([], ["LANG": "fr_FR.UTF-8", "LC_MESSAGES": "en_US.UTF-8"]).contains("pending:"))
        #expect(try pending(["--lang", "fr"], Self.arabic).contains("en attente :"))
        // Saved: wins over the environment, not over the flag.
        let saved = try setup.field(["init", "--lang", "ar"], Self.french)
        #expect(saved.status == 0 && saved.stdout.contains("لغة هذا الهاتف: العربية"), "\(saved.stdout)")
        #expect(try pending([], Self.french).contains("في الانتظار:"))
        #expect(try pending([], ["LC_ALL": "fr_MA.UTF-8"]).contains("في الانتظار:"))
        #expect(try pending(["--lang", "en"], Self.french).contains("pending:"))
        #expect(try pending(["--lang=fr"], [:]).contains("en attente :"))
        // The help of a command the saved choice speaks; a bad value is bad usage.
        let help = try setup.field(["sync", "--help"], [:])
        #expect(help.stdout.contains("الاستعمال:"), "\(help.stdout)")
        #expect(try setup.field(["status", "--lang", "de"], [:]).status == 2)
        // Enrolment with --lang keeps the choice too.
        let token = try issueToken(
            db: setup.directory.appendingPathComponent("hub.db").path, role: "device", city: "Fès", name: "sara",
            directory: setup.directory)
        let sara = setup.directory.appendingPathComponent("sara.db").path
        let enrolled = try run(
            Binaries.field,
            ["init", "--server", setup.server.url, "--token-file", token.file, "--db", sara, "--lang", "fr"])
        #expect(enrolled.status == 0 && enrolled.stdout.contains("inscrit"), "\(enrolled.stdout)")
        #expect(try run(Binaries.field, ["status", "--db", sara]).stdout.contains("en attente :"))
    }

    /// Items and campaigns are named in the volunteer's language (a campaign without a name in it: its
    /// `name`); a delivery naming a campaign that does not exist is refused in that language.
    @Test func itemsAndCampaignsAreNamedInTheLanguage() throws {
        let (setup, _) = try Self.setUp(Self.arabic)
        defer { setup.stop() }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        let (from, to) = (Date().addingTimeInterval(-86_400 * 2), Date().addingTimeInterval(86_400 * 30))
        let set = try setup.admin([
            "admin", "campaign", "set", "winter", "--name", "Winter", "--name-ar", "حملة الشتاء", "--from",
            formatter.string(from: from), "--to", formatter.string(from: to), "--items", "food_pack:1",
        ])
        #expect(set.status == 0, "\(set.stderr)")
        #expect(try setup.admin(["sync"]).status == 0)
        #expect(try setup.field(["sync"]).status == 0)
        let arabic = try setup.field(["catalogue"], Self.arabic)
        #expect(arabic.stdout.contains("حملة الشتاء") && arabic.stdout.contains("قفة غذائية"), "\(arabic.stdout)")
        let french = try setup.field(["catalogue", "--lang", "fr"], Self.arabic)
        #expect(french.stdout.contains("Winter") && french.stdout.contains("Panier alimentaire"), "\(french.stdout)")
        #expect(!french.stdout.contains("حملة الشتاء"))
        let english = try setup.field(["catalogue"], ["LANG": "en_US.UTF-8"])
        #expect(english.stdout.contains("Food pack") && english.stdout.contains("NAME"), "\(english.stdout)")
        let json = try setup.field(["catalogue", "--json"], Self.arabic)
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let open = object?["open_campaigns"] as? [[String: Any]]
        #expect(open?.first?["name"] as? String == "Winter" && open?.first?["name_ar"] as? String == "حملة الشتاء")
        // A campaign that does not exist: the domain's rule, worded from its code, with the open ones.
        #expect(try setup.field(["family", "add", "--reference", "FES-1", "--head", "Fatma"]).status == 0)
        let summer = try setup.field(
            ["deliver", "--family", "FES-1", "--item", "food_pack", "--campaign", "summer"], Self.arabic)
        #expect(summer.status == 1)
        #expect(
            summer.stderr.contains("لا توجد حملة 'summer'.") && summer.stderr.contains("المفتوحة يوم")
                && summer.stderr.contains("winter"), "\(summer.stderr)")
        let delivered = try setup.field(
            ["deliver", "--family", "FES-1", "--item", "food_pack", "--campaign", "winter"], Self.arabic)
        #expect(delivered.status == 0 && delivered.stdout.contains("قفة غذائية"), "\(delivered.stderr)")
    }

    /// Every phrase of every table has its three languages, the same arguments in each, Arabic letters in
    /// Arabic, no bidirectional control, and none of the words a volunteer does not use.
    @Test func everyPhraseIsInEveryLanguageInTheVolunteersWords() throws {
        let result = try run(Binaries.field, ["phrases"])
        #expect(result.status == 0, "\(result.stderr)")
        let phrases = try #require(
            try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: String]])
        #expect(phrases.count > 150)
        // help, option, device, family, delivery, sync, refusal, usage, match, sheet
        #expect(Set(phrases.compactMap { $0["book"] }).count == 10)
        let banned = try Regex(#"(?i)\b(replica|replicas|node|nodes|token|tokens)\b"#)
        let option = try Regex(#"--[a-z][a-z-]*"#)
        let placeholder = try Regex(#"\{[0-9]+\}"#)
        for phrase in phrases {
            let key = "\(phrase["book"] ?? "?").\(phrase["key"] ?? "?")"
            let texts = ["en", "fr", "ar"].map { phrase[$0] ?? "" }
            #expect(texts.allSatisfy { !$0.trimmingCharacters(in: .whitespaces).isEmpty }, "\(key) has a hole")
            let arguments = texts.map { text in Set(text.matches(of: placeholder).map { String(text[$0.range]) }) }
            // "{1} (id {2})" and the like: every language places the same arguments.
            #expect(arguments[0] == arguments[1] && arguments[0] == arguments[2], "\(key): \(arguments)")
            // A phrase with words (not only arguments and option names) has Arabic words in Arabic.
            let english = texts[0].replacing(placeholder, with: "").replacing(option, with: "")
            if english.contains(where: \.isLetter) {
                #expect(Self.hasArabic(texts[2]), "\(key) in Arabic has no Arabic letter: \(texts[2])")
            }
            for text in texts {
                // Option names (`--token-file`) are what a volunteer types, not words they read.
                let words = text.replacing(option, with: "")
                #expect(words.firstMatch(of: banned) == nil, "\(key): \(text)")
                #expect(
                    !text.unicodeScalars.contains {
                        [0x200E, 0x200F, 0x061C].contains($0.value) || (0x202A...0x202E).contains($0.value)
                            || (0x2066...0x2069).contains($0.value)
                    }, "\(key) holds a bidirectional control")
            }
        }
    }
}

/// One word of a person's name, ready to be compared across spellings and scripts.
///
/// Particles are joined to the word they introduce ("Ben Ali", "Aït Ali", "Abdel Aziz", "بن علي" become one
/// word), honorifics (Moulay, Sidi, Lalla) and the article before a name ("El", "Al", "ال") are dropped.
struct NameToken: Hashable, Sendable {
    enum Script: Sendable { case latin, arabic }

    /// The word as written, for explanations.
    let written: String
    let script: Script
    /// Latin: folded, doubled letters single, "ou" → u, "sh" → ch; Arabic: letters with their variants unified.
    let spelling: [UInt32]
    /// The consonants both scripts write: "mhmd" for Mohamed, Mohammed, Mhamed and محمد.
    let skeleton: String
    /// The skeleton read the other way round for an article glued to the word ("Elidrissi" as "drs", and
    /// "الإدريسي" as "ldrs"); nil when there is none.
    let alternate: String?
    /// The spelling as a dictionary key, with its script.
    let form: String

    init(written: String, script: Script, spelling: [UInt32], skeleton: String, alternate: String?) {
        self.written = written
        self.script = script
        self.spelling = spelling
        self.skeleton = skeleton
        self.alternate = alternate
        skeletons = alternate.map { [skeleton, $0] } ?? [skeleton]
        var scalars = String.UnicodeScalarView()
        for value in spelling { if let scalar = Unicode.Scalar(value) { scalars.append(scalar) } }
        form = String(scalars)
    }

    /// Whether the word ends in the sound "a", as most women's names do: "a", "ae" or "aa" in French; ة (but not
    /// اة, "at": Najat, Hayat), ى, ا or اء in Arabic. Samir and Samira, Said and سعيدة differ there.
    var endsInA: Bool {
        guard let last = spelling.last else { return false }
        let before = spelling.dropLast().last
        switch script {
        case .latin:
            let a = UInt32(UInt8(ascii: "a"))
            return last == a || (last == UInt32(UInt8(ascii: "e")) && before == a)
        case .arabic:
            return (last == 0x0629 && before != 0x0627) || last == 0x0649 || last == 0x0627
                || (last == 0x0621 && before == 0x0627)
        }
    }

    /// The skeleton, then the alternate if any.
    let skeletons: [String]
}

/// Cuts names into `NameToken`s: the deterministic transliteration of Arabic and French spellings to one skeleton.
public enum NameTransliteration {
    /// The skeletons of a name's words, space-separated: "محمد بناني" and "Mohamed Bennani" both give "mhmd bnn".
    public static func skeleton(_ name: String) -> String {
        tokens(name).map(\.skeleton).joined(separator: " ")
    }

    static let honorifics: Set<String> = ["moulay", "mulay", "sidi", "si", "lalla", "lala", "hajj", "haj", "hadj"]
    static let articles: Set<String> = ["el", "al", "l", "ed", "er", "es", "et", "ez", "ad", "ar", "as", "at", "az"]
    static let particles: Set<String> = [
        "ben", "bin", "ibn", "bent", "bint", "ait", "aith", "ou", "o", "u", "abd", "abdel", "abdal", "abdul",
        "abdou", "abde", "bou", "bu", "ould", "oulad",
    ]
    static let suffixes: Set<String> = ["eddine", "edine", "eddin", "dine", "ddine"]
    static let arabicHonorifics: Set<String> = ["مولاي", "سيدي", "لالة", "لاله", "الحاج", "حاج"]
    static let arabicParticles: Set<String> = [
        "بن", "ابن", "بنت", "ايت", "ايث", "عبد", "ابو", "بو", "ولد", "اولاد", "او",
    ]

    /// The words of a name, Latin and Arabic alike, with particles joined and honorifics dropped.
    static func tokens(_ name: String) -> [NameToken] {
        var result: [NameToken] = []
        var pending: (words: [String], script: NameToken.Script)?
        for (word, script) in words(name) {
            if let held = pending, held.script != script {
                result.append(token(held.words.joined(), script: held.script))
                pending = nil
            }
            if script == .latin ? honorifics.contains(word) : arabicHonorifics.contains(word) { continue }
            if script == .latin ? articles.contains(word) : word == "ال" {
                // "Abd el Aziz" keeps its article inside the joined word; "El Alaoui" drops it.
                if let held = pending { pending = (held.words + [word], script) }
                continue
            }
            if script == .latin ? suffixes.contains(word) : word == "الدين", let last = result.last,
                last.script == script, pending == nil
            {
                // "Nour Eddine", "نور الدين": one name, as "Noureddine" is.
                result[result.count - 1] = token(
                    last.written + (script == .latin ? word : "دين"), script: script)
                continue
            }
            let isParticle = script == .latin ? particles.contains(word) : arabicParticles.contains(word)
            pending = ((pending?.words ?? []) + [word], script)
            if !isParticle, let held = pending {
                result.append(token(held.words.joined(), script: script))
                pending = nil
            }
        }
        if let held = pending { result.append(token(held.words.joined(), script: held.script)) }
        return result
    }

    /// Lowercased words without accents, split at anything that is not a letter and where the script changes.
    static func words(_ name: String) -> [(String, NameToken.Script)] {
        var words: [(String, NameToken.Script)] = []
        var current = String.UnicodeScalarView()
        var script = NameToken.Script.latin
        func flush() {
            if !current.isEmpty { words.append((String(current), script)) }
            current = String.UnicodeScalarView()
        }
        for scalar in name.unicodeScalars {
            if let arabic = ArabicLetters.unify(scalar) {
                if script != .arabic { flush() }
                script = .arabic
                if let letter = arabic { current.append(letter) }
            } else if let latin = LatinLetters.fold(scalar) {
                if script != .latin { flush() }
                script = .latin
                current.append(contentsOf: latin.unicodeScalars)
            } else {
                flush()
            }
        }
        flush()
        return words
    }

    static func token(_ word: String, script: NameToken.Script) -> NameToken {
        switch script {
        case .latin:
            let letters = Array(word.utf8)
            let skeleton = LatinLetters.skeleton(letters)
            var alternate: String?
            if letters.count >= 5, letters[1] == UInt8(ascii: "l"),
                letters[0] == UInt8(ascii: "e") || letters[0] == UInt8(ascii: "a")
            {
                alternate = LatinLetters.skeleton(Array(letters.dropFirst(2)))
            }
            return NameToken(
                written: word, script: .latin, spelling: LatinLetters.spelling(letters), skeleton: skeleton,
                alternate: alternate == skeleton ? nil : alternate)
        case .arabic:
            let letters = Array(word.unicodeScalars)
            let hasArticle = letters.count >= 4 && letters[0] == "\u{0627}" && letters[1] == "\u{0644}"
            let bare = ArabicLetters.skeleton(hasArticle ? Array(letters.dropFirst(2)) : letters)
            let full = ArabicLetters.skeleton(letters)
            return NameToken(
                written: word, script: .arabic, spelling: letters.map(\.value), skeleton: bare,
                alternate: full == bare ? nil : full)
        }
    }
}

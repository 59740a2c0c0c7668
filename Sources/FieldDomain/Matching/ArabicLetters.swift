/// Arabic script as Moroccan volunteers type it, reduced to letters and to a consonant skeleton.
enum ArabicLetters {
    /// nil for a scalar that is not an Arabic letter or mark; `.some(nil)` for a mark to drop (short vowels,
    /// shadda, tatweel); otherwise the letter with its variants unified (أ إ آ ٱ → ا, ئ → ي, ؤ → و,
    /// گ ݣ ڭ → ك, ڤ → ف, پ → ب).
    static func unify(_ scalar: Unicode.Scalar) -> Unicode.Scalar?? {
        let value = scalar.value
        switch value {
        case 0x064B...0x065F, 0x0670, 0x0640: return .some(nil)
        case 0x0623, 0x0625, 0x0622, 0x0671: return "\u{0627}"
        case 0x0626: return "\u{064A}"
        case 0x0624: return "\u{0648}"
        case 0x06AF, 0x0763, 0x06AD, 0x06A9: return "\u{0643}"
        case 0x06A4: return "\u{0641}"
        case 0x067E: return "\u{0628}"
        case 0x06CC: return "\u{064A}"
        case 0x0621...0x063A, 0x0641...0x064A, 0x0686: return scalar
        default: return nil
        }
    }

    /// Letters after which `ال` is not heard as "l" (the sun letters): "عبد الرحيم" is Abderrahim.
    static let sunLetters: Set<UInt32> = [
        0x062A, 0x062B, 0x062F, 0x0630, 0x0631, 0x0632, 0x0633, 0x0634, 0x0635, 0x0636, 0x0637, 0x0638, 0x0644,
        0x0646,
    ]

    /// The consonants of one unified word, in the skeleton alphabet `LatinLetters.skeleton` also writes.
    ///
    /// Long vowels (ا, و and ي inside a word), ع, hamza and ة are dropped, as French spellings show them as vowels
    /// or not at all; و and ي starting a word are w and y; a final ه is dropped except in الله and short words.
    /// A letter repeated across a dropped vowel stays two letters, as in French spellings.
    static func skeleton(_ letters: [Unicode.Scalar]) -> String {
        let values = letters.map(\.value)
        var out: [UInt8] = []
        var afterVowel = false
        for (index, value) in values.enumerated() {
            let next = index + 1 < values.count ? values[index + 1] : nil
            let previous = index > 0 ? values[index - 1] : nil
            let letter: Character?
            switch value {
            case 0x0628: letter = "b"
            case 0x062A, 0x062B, 0x0637: letter = "t"
            case 0x062C: letter = "j"
            case 0x062D: letter = "h"
            case 0x062E: letter = "q"
            // ظ is heard as ض in Morocco: حفيظة is Hafida.
            case 0x062F, 0x0630, 0x0636, 0x0638: letter = "d"
            case 0x0631: letter = "r"
            case 0x0632: letter = "z"
            case 0x0633, 0x0635: letter = "s"
            case 0x0634, 0x0686: letter = "x"
            case 0x063A: letter = "g"
            case 0x0641: letter = "f"
            case 0x0642, 0x0643: letter = "k"
            case 0x0644:
                // The article inside a joined name before a sun letter: عبدالرحيم, not "abdlrhm".
                let isArticle = previous == 0x0627 && (index == 1 || Self.followsAbd(values, at: index - 1))
                letter = isArticle && next.map(sunLetters.contains) == true ? nil : "l"
            case 0x0645: letter = "m"
            case 0x0646: letter = "n"
            case 0x0647: letter = index == values.count - 1 && values.count > 2 && previous != 0x0644 ? nil : "h"
            case 0x0629: letter = previous == 0x0627 ? "t" : nil  // نجاة is Najat, فاطمة is Fatima
            case 0x0648: letter = index == 0 ? "w" : nil
            case 0x064A: letter = index == 0 ? "y" : nil
            default: letter = nil
            }
            if let letter, let ascii = letter.asciiValue {
                if out.last != ascii || afterVowel { out.append(ascii) }
                afterVowel = false
            } else {
                afterVowel = true  // a long vowel or ع between two letters: بناني is "bnn"
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether `values[index]` follows عبد (the article of "عبد الـ…" names joined into one word).
    private static func followsAbd(_ values: [UInt32], at index: Int) -> Bool {
        index >= 3 && values[index - 3] == 0x0639 && values[index - 2] == 0x0628 && values[index - 1] == 0x062F
    }
}

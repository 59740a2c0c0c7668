import Foundation

/// How a second volunteer writes again what a family says: another spelling, a typo, another phone format.
enum NameVariants {
    /// Another French spelling of one word of `name`: a listed variant, or a doubled/undoubled letter,
    /// ch ↔ sh, ou ↔ u, e ↔ i, k ↔ q, the article "El" added or dropped; nil when none applies.
    static func spelling(of name: MoroccanNames.Name, using random: inout SeededRandom) -> String? {
        var options = name.variants
        let text = name.latin
        let article = text.hasPrefix("El ") ? "El " : ""
        let base = String(text.dropFirst(article.count))
        let rules: [(String, String)] = [
            ("ch", "sh"), ("ou", "u"), ("kh", "k"), ("k", "q"), ("e", "i"), ("i", "e"), ("a", "e"), ("ss", "s"),
            ("nn", "n"), ("ll", "l"), ("rr", "r"), ("dd", "d"), ("mm", "m"),
        ]
        for (from, to) in rules where base.contains(from) {
            options.append(article + replacingOne(from, with: to, in: base, using: &random))
        }
        if text.hasPrefix("El ") { options.append(String(text.dropFirst(3))) }
        return options.filter { $0 != text }.isEmpty ? nil : random.pick(options.filter { $0 != text })
    }

    /// `text` with one letter mistyped: a neighbouring key, a letter dropped, doubled, or two swapped.
    static func typo(_ text: String, using random: inout SeededRandom) -> String {
        var letters = Array(text)
        let positions = letters.indices.filter { letters[$0].isLetter }
        guard positions.count >= 3 else { return text + "e" }
        let index = random.pick(Array(positions.dropFirst()))
        switch Int.random(in: 0..<4, using: &random) {
        case 0:
            letters[index] = neighbour(letters[index], using: &random)
        case 1:
            letters.remove(at: index)
        case 2:
            letters.insert(letters[index], at: index)
        default:
            let next = index + 1 < letters.count && letters[index + 1].isLetter ? index + 1 : index - 1
            letters.swapAt(index, next)
        }
        let result = String(letters)
        return result == text ? text + "a" : result
    }

    /// A key next to `letter` on an AZERTY keyboard, or an Arabic letter that looks or sounds alike.
    static func neighbour(_ letter: Character, using random: inout SeededRandom) -> Character {
        let neighbours: [Character: String] = [
            "a": "zqs", "z": "aes", "e": "zrd", "r": "etf", "t": "ryg", "y": "tuh", "u": "yij", "i": "uok",
            "o": "ipl", "p": "oml", "q": "asw", "s": "qdz", "d": "sfe", "f": "dgr", "g": "fht", "h": "gjy",
            "j": "hku", "k": "jli", "l": "kmo", "m": "lp", "w": "qx", "x": "wc", "c": "xv", "v": "cb",
            "b": "vn", "n": "bm", "ب": "تن", "ت": "بث", "ح": "جخ", "د": "ذر", "ر": "زد", "س": "شص",
            "ع": "غ", "ف": "ق", "ك": "ق", "ل": "ك", "م": "ن", "ن": "مب", "ه": "ة", "ي": "ى", "و": "ر",
            "ا": "أل", "ز": "ر", "ص": "ض", "ط": "ظ", "ق": "ف", "ج": "ح", "ش": "س", "خ": "ح",
        ]
        let lower = Character(letter.lowercased())
        guard let options = neighbours[lower] else { return letter == "a" ? "e" : "a" }
        let chosen = random.pick(Array(options))
        return letter.isUppercase ? Character(chosen.uppercased()) : chosen
    }

    private static func replacingOne(
        _ from: String, with to: String, in text: String, using random: inout SeededRandom
    ) -> String {
        var ranges: [Range<String.Index>] = []
        var start = text.startIndex
        while let range = text.range(of: from, range: start..<text.endIndex) {
            ranges.append(range)
            start = range.upperBound
        }
        guard !ranges.isEmpty else { return text }
        return text.replacingCharacters(in: random.pick(ranges), with: to)
    }
}

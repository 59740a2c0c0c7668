/// How two words of two names agree, from the strongest to none.
enum NameAgreement: Int, Sendable, Comparable {
    /// The same word in the same script ("Mohammed" and "Mohamed" count as the same: doubled letters are one).
    case same = 4
    /// The same consonants, a known spelling variant: Mohamed / Mhamed, Fatima / Fatma, El Idrissi / Idrissi.
    case spelling = 3
    /// The same consonants across scripts: محمد and Mohamed.
    case transliterated = 2
    /// One letter typed wrong, missing, added or swapped (or one consonant across scripts).
    case typo = 1
    case different = 0

    static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

    var words: String {
        switch self {
        case .same: "same"
        case .spelling: "spelling variant"
        case .transliterated: "transliterated"
        case .typo: "typo"
        case .different: "different"
        }
    }

    /// How two words agree, before weighing how common they are.
    ///
    /// An "a" ending on one side only (Samir / Samira, Said / سعيدة: a man and a woman) is never a mere variant:
    /// at most a typo.
    static func of(_ a: NameToken, _ b: NameToken) -> NameAgreement {
        let sameGender = a.endsInA == b.endsInA
        if a.script == b.script {
            if a.spelling == b.spelling { return .same }
            if sameGender, !a.skeleton.isEmpty, a.skeletons.contains(where: b.skeletons.contains),
                a.script == .arabic || EditDistance.vowelWeighted(a.spelling, b.spelling) <= 2
            {
                return .spelling
            }
            let shortest = min(a.spelling.count, b.spelling.count)
            return shortest >= 4 && EditDistance.withinOne(a.spelling, b.spelling) ? .typo : .different
        }
        if sameGender, !a.skeleton.isEmpty, a.skeletons.contains(where: b.skeletons.contains) {
            return .transliterated
        }
        let shortest = min(a.skeleton.utf8.count, b.skeleton.utf8.count)
        return shortest >= 4 && EditDistance.withinOne(Array(a.skeleton.utf8), Array(b.skeleton.utf8))
            ? .typo : .different
    }
}

/// Small edit distances on short words.
enum EditDistance {
    /// Whether `a` and `b` differ by at most one substitution, insertion, deletion or swap of neighbours.
    static func withinOne<T: Equatable>(_ a: [T], _ b: [T]) -> Bool {
        if abs(a.count - b.count) > 1 { return false }
        var prefix = 0
        while prefix < a.count, prefix < b.count, a[prefix] == b[prefix] { prefix += 1 }
        if prefix == a.count, prefix == b.count { return true }
        if a.count == b.count {
            if a[(prefix + 1)...] == b[(prefix + 1)...] { return true }
            return prefix + 1 < a.count && a[prefix] == b[prefix + 1] && a[prefix + 1] == b[prefix]
                && a[(prefix + 2)...] == b[(prefix + 2)...]
        }
        let (long, short) = a.count > b.count ? (a, b) : (b, a)
        return long[(prefix + 1)...] == short[prefix...]
    }

    /// Edit distance in half-units where a vowel (a e i o u) inserted, deleted or changed for another vowel, or a
    /// letter changed for one that sounds the same (c/k/q, c/s), costs 1 and anything else 2: Mohamed / Mohamad is 1,
    /// Fatima / Fatma 1, Malika / Melica 2, Ahmed / Hamid 3.
    static func vowelWeighted(_ a: [UInt32], _ b: [UInt32]) -> Int {
        func soundAlike(_ x: UInt32, _ y: UInt32) -> Bool {
            let pair = Set([x, y].compactMap { Unicode.Scalar($0).map(Character.init) })
            return pair == ["c", "k"] || pair == ["q", "k"] || pair == ["c", "q"] || pair == ["c", "s"]
        }
        func vowel(_ letter: UInt32) -> Bool {
            letter < 128 && LatinLetters.isVowel(UInt8(letter))
        }
        var previous =
            [0]
            + b.indices.reduce(into: [Int]()) { costs, index in
                costs.append((costs.last ?? 0) + (vowel(b[index]) ? 1 : 2))
            }
        for i in a.indices {
            let deletion = vowel(a[i]) ? 1 : 2
            var current = [previous[0] + deletion]
            for j in b.indices {
                let insertion = vowel(b[j]) ? 1 : 2
                let substitution =
                    a[i] == b[j] ? 0 : (vowel(a[i]) && vowel(b[j])) || soundAlike(a[i], b[j]) ? 1 : 2
                current.append(
                    min(previous[j + 1] + deletion, current[j] + insertion, previous[j] + substitution))
            }
            previous = current
        }
        return previous[b.count]
    }
}

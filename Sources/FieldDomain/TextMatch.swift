import Foundation

/// Matching names and phones as people write them: French accents, Arabic letter variants, spacing.
public enum TextMatch {
    /// Lowercased, without accents, Arabic diacritics or tatweel, with Arabic letter variants unified
    /// (أ إ آ ٱ → ا, ى ئ → ي, ة → ه, ؤ → و) and runs of spaces collapsed.
    public static func normalize(_ text: String) -> String {
        let folded = text.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil)
        var scalars = String.UnicodeScalarView()
        var lastWasSpace = true
        for scalar in folded.unicodeScalars {
            let value = scalar.value
            if (0x064B...0x065F).contains(value) || value == 0x0670 || value == 0x0640 { continue }
            let mapped: Unicode.Scalar
            switch value {
            case 0x0623, 0x0625, 0x0622, 0x0671: mapped = "\u{0627}"
            case 0x0649, 0x0626: mapped = "\u{064A}"
            case 0x0629: mapped = "\u{0647}"
            case 0x0624: mapped = "\u{0648}"
            default: mapped = scalar
            }
            if mapped.properties.isWhitespace || mapped == "-" || mapped == "'" {
                if !lastWasSpace { scalars.append(" ") }
                lastWasSpace = true
            } else {
                scalars.append(mapped)
                lastWasSpace = false
            }
        }
        var result = String(scalars)
        while result.hasSuffix(" ") { result.removeLast() }
        return result
    }

    /// The last 8 digits of a phone number (local numbers with or without the country code match).
    public static func phoneKey(_ phone: String) -> String? {
        let digits = phone.unicodeScalars.compactMap { scalar -> Character? in
            guard let digit = Int(String(scalar)), (0...9).contains(digit) else { return nil }
            return Character(String(digit))
        }
        guard digits.count >= 6 else { return nil }
        return String(digits.suffix(8))
    }

    /// Whether two normalized names are near-identical: equal, or within 2 edits for names of 6+ letters.
    public static func similar(_ a: String, _ b: String) -> Bool {
        if a == b { return true }
        let (x, y) = (Array(a), Array(b))
        guard min(x.count, y.count) >= 6, abs(x.count - y.count) <= 2 else { return false }
        var previous = Array(0...y.count)
        for i in 1...x.count {
            var current = [i] + Array(repeating: 0, count: y.count)
            for j in 1...y.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[y.count] <= 2
    }
}

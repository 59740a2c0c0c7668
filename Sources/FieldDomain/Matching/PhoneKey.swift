/// A phone number as volunteers type it, reduced to the digits that identify the line.
///
/// Moroccan numbers keep their 9 significant digits whatever the prefix (`+212`, `00212`, `212`, `0`,
/// `+212 (0)`), with spaces, dots, dashes and slashes ignored and Arabic-Indic (٠-٩) or Eastern (۰-۹)
/// digits read as digits: "06 12 34 56 78", "+212 612-345-678" and "٠٦١٢٣٤٥٦٧٨" have the same key.
/// Other numbers keep their last 8 digits, as `TextMatch.phoneKey` does, so that a number typed with or without
/// its country code is one number ("+216 98 123 456", "98 123 456").
public struct PhoneKey: Hashable, Sendable, CustomStringConvertible {
    /// The significant digits, ASCII: "612345678" for a Moroccan number.
    public let digits: String
    /// Whether the number reads as a Moroccan one (9 significant digits after the prefixes).
    public let isMoroccan: Bool

    /// Reads a typed number; nil when it holds fewer than 6 digits.
    public init?(_ text: String) {
        var digits: [UInt8] = []
        for scalar in text.unicodeScalars {
            if let digit = Self.digit(scalar) { digits.append(digit) }
        }
        guard digits.count >= 6 else { return nil }
        var rest = digits[...]
        if rest.starts(with: [0, 0, 2, 1, 2]) {
            rest = rest.dropFirst(5)
        } else if rest.starts(with: [2, 1, 2]), rest.count >= 12 {
            rest = rest.dropFirst(3)
        }
        if rest.count == 10, rest.first == 0 { rest = rest.dropFirst() }
        isMoroccan = rest.count == 9 && (5...8).contains(rest.first ?? 0)
        self.digits = String(decoding: (isMoroccan ? rest : digits.suffix(8)).map { $0 + 48 }, as: UTF8.self)
    }

    /// The key of `digits`, significant digits as ``digits`` gives them (the domain's index keeps them): only a
    /// Moroccan number has 9.
    init(digits: String) {
        self.digits = digits
        isMoroccan = digits.utf8.count == 9
    }

    /// The number as Moroccans write it at home: "0612345678" (other numbers: their last 8 digits).
    public var national: String { isMoroccan ? "0" + digits : digits }

    /// The number with its middle hidden, for messages an admin reads: "0612…78".
    public var masked: String {
        let text = national
        guard text.count > 6 else { return text }
        return String(text.prefix(4)) + "…" + String(text.suffix(2))
    }

    /// "mobile" (06, 07), "fixed" (05), or nil for other numbers.
    public var line: String? {
        guard isMoroccan, let first = digits.first else { return nil }
        return first == "5" ? "fixed" : (first == "6" || first == "7") ? "mobile" : nil
    }

    public var description: String { national }

    /// Keys with one digit replaced by `?`: two numbers one mistyped digit apart share one of them.
    var wildcards: [String] {
        let bytes = Array(digits.utf8)
        return bytes.indices.map { index in
            var copy = bytes
            copy[index] = UInt8(ascii: "?")
            return String(decoding: copy, as: UTF8.self)
        }
    }

    /// Keys with two neighbouring digits swapped (the other common slip of a typed number).
    var transpositions: [String] {
        let bytes = Array(digits.utf8)
        return bytes.indices.dropLast().compactMap { index in
            guard bytes[index] != bytes[index + 1] else { return nil }
            var copy = bytes
            copy.swapAt(index, index + 1)
            return String(decoding: copy, as: UTF8.self)
        }
    }

    /// Whether the two numbers differ by one digit typed wrong or two neighbouring digits swapped.
    func isOneSlip(from other: PhoneKey) -> Bool {
        let (a, b) = (Array(digits.utf8), Array(other.digits.utf8))
        guard a.count == b.count, a != b else { return false }
        let differing = a.indices.filter { a[$0] != b[$0] }
        if differing.count == 1 { return true }
        return differing.count == 2 && differing[1] == differing[0] + 1
            && a[differing[0]] == b[differing[1]] && a[differing[1]] == b[differing[0]]
    }

    /// The value of an ASCII, Arabic-Indic (U+0660…) or Eastern Arabic-Indic (U+06F0…) digit.
    static func digit(_ scalar: Unicode.Scalar) -> UInt8? {
        switch scalar.value {
        case 0x30...0x39: UInt8(scalar.value - 0x30)
        case 0x0660...0x0669: UInt8(scalar.value - 0x0660)
        case 0x06F0...0x06F9: UInt8(scalar.value - 0x06F0)
        default: nil
        }
    }
}

import Foundation

/// Cities, their districts and streets, and phone numbers as typed.
enum Places {
    /// Cities with their share of families and districts.
    static let cities: [(name: String, weight: Int, districts: [String])] = [
        (
            "Casablanca", 30,
            [
                "Sidi Moumen", "Hay Mohammadi", "Ain Sebaa", "Sidi Bernoussi", "Ben Msik", "Moulay Rachid",
                "Hay Hassani", "Maarif", "Derb Sultan", "Ain Chock", "Sbata", "Lissasfa",
            ]
        ),
        (
            "Rabat", 12,
            ["Yacoub El Mansour", "Takaddoum", "Youssoufia", "Hay Nahda", "Akkari", "Douar Hajja", "Médina", "Agdal"]
        ),
        (
            "Fès", 14,
            ["Médina", "Jnan El Ward", "Ain Nokbi", "Bensouda", "Zouagha", "Narjiss", "Sidi Brahim", "Saiss"]
        ),
        (
            "Marrakech", 14,
            ["Médina", "Sidi Youssef Ben Ali", "Daoudiate", "Mhamid", "Massira", "Azli", "Bab Doukkala", "Gueliz"]
        ),
        (
            "Tanger", 12,
            ["Beni Makada", "Bir Chifa", "Mesnana", "Drissia", "Casabarata", "Souani", "Marshan", "Boukhalef"]
        ),
        ("Agadir", 7, ["Dcheira", "Anza", "Tikiouine", "Hay Mohammadi", "Bensergao", "Talborjt", "Lkhyam"]),
        ("Oujda", 5, ["Lazaret", "Hay Al Qods", "Sidi Yahya", "Al Massira", "Hay Salam", "Médina", "Andalous"]),
        ("Meknès", 6, ["Marjane", "Bassatine", "Sidi Baba", "Borj Moulay Omar", "Hamria", "Zitoune", "Toulal"]),
    ]

    /// A street address: "Rue 12 n° 34", "Derb Ben Jelloul n° 7", "Zanka 5 n° 18", "Lot Al Amal n° 102".
    static func address(using random: inout SeededRandom) -> String {
        let number = Int.random(in: 1...220, using: &random)
        let street: String
        switch Int.random(in: 0..<4, using: &random) {
        case 0: street = "Rue \(Int.random(in: 1...80, using: &random))"
        case 1: street = "Derb " + random.pick(MoroccanNames.family).latin
        case 2: street = "Zanka \(Int.random(in: 1...40, using: &random))"
        default: street = "Lot " + random.pick(["Al Amal", "Annasr", "Al Fath", "Essalam", "Al Wahda", "Nour"])
        }
        return "\(street) n° \(number)"
    }

    /// The same address typed again: as it was, reordered with other abbreviations, or with the number alone.
    static func retyped(_ address: String, using random: inout SeededRandom) -> String {
        guard random.chance(0.4) else { return address }
        let parts = address.components(separatedBy: " n° ")
        guard parts.count == 2 else { return address }
        return random.chance(0.5) ? "\(parts[0]), No \(parts[1])" : "n \(parts[1]) \(parts[0].lowercased())"
    }

    /// A Moroccan phone's 9 significant digits: mostly mobiles (06, 07), a few fixed lines (05).
    static func phone(using random: inout SeededRandom) -> [Int] {
        let first = random.chance(0.05) ? 5 : (random.chance(0.65) ? 6 : 7)
        return [first] + (0..<8).map { _ in Int.random(in: 0...9, using: &random) }
    }

    /// The digits as some volunteer types them; Arabic-script entries sometimes use Arabic-Indic digits.
    static func typed(_ digits: [Int], arabic: Bool, using random: inout SeededRandom) -> String {
        let national = [0] + digits
        let text = national.map(String.init).joined()
        let pairs = stride(from: 0, to: 10, by: 2).map { national[$0..<$0 + 2].map(String.init).joined() }
        let rest = digits.map(String.init).joined()
        if arabic, random.chance(0.4) {
            let indic = random.chance(0.7) ? 0x0660 : 0x06F0
            return String(String.UnicodeScalarView(national.map { Unicode.Scalar(UInt32(indic + $0))! }))
        }
        switch Int.random(in: 0..<9, using: &random) {
        case 0, 1: return text
        case 2: return pairs.joined(separator: " ")
        case 3: return pairs.joined(separator: ".")
        case 4: return pairs.joined(separator: "-")
        case 5: return "+212" + rest
        case 6:
            return "+212 " + String(rest.prefix(1)) + " "
                + stride(from: 1, to: 9, by: 2).map {
                    rest.dropFirst($0).prefix(2)
                }.joined(separator: " ")
        case 7: return "00212" + rest
        default: return "+212 (0)" + rest
        }
    }
}

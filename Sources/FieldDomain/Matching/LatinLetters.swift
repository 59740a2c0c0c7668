import Foundation

/// French spellings of Moroccan names, reduced to folded letters and to the consonant skeleton Arabic also gives.
enum LatinLetters {
    /// The lowercase ASCII letters of a Latin scalar without its accents ("Aït" → "ait", "ç" → "s"); nil for
    /// anything else.
    static func fold(_ scalar: Unicode.Scalar) -> String? {
        switch scalar.value {
        case 0x41...0x5A: return String(Character(Unicode.Scalar(scalar.value + 32)!))
        case 0x61...0x7A: return String(Character(scalar))
        case 0xE7, 0xC7: return "s"
        case 0xC0...0xFF:
            let folded = String(Character(scalar)).decomposedStringWithCanonicalMapping.unicodeScalars
                .filter { $0.isASCII && $0.properties.isAlphabetic }
            let text = String(String.UnicodeScalarView(folded)).lowercased()
            return text.isEmpty ? (scalar.value == 0xDF ? "ss" : scalar.value == 0xE6 ? "ae" : nil) : text
        default: return nil
        }
    }

    static func isVowel(_ letter: UInt8) -> Bool {
        switch letter {
        case UInt8(ascii: "a"), UInt8(ascii: "e"), UInt8(ascii: "i"), UInt8(ascii: "o"), UInt8(ascii: "u"),
            UInt8(ascii: "y"):
            true
        default: false
        }
    }

    /// The letters with doubled ones single, "ou"/"oo" → "u", "sh" → "ch", "y" inside a word → "i".
    static func spelling(_ letters: [UInt8]) -> [UInt32] {
        var out: [UInt32] = []
        var index = 0
        while index < letters.count {
            var letter = letters[index]
            let next = index + 1 < letters.count ? letters[index + 1] : 0
            if letter == UInt8(ascii: "o"), next == UInt8(ascii: "u") || next == UInt8(ascii: "o") {
                letter = UInt8(ascii: "u")
                index += 1
            } else if letter == UInt8(ascii: "s"), next == UInt8(ascii: "h") {
                out.append(UInt32(UInt8(ascii: "c")))
                letter = UInt8(ascii: "h")
                index += 1
            } else if letter == UInt8(ascii: "y"), index > 0 {
                letter = UInt8(ascii: "i")
            }
            if out.last != UInt32(letter) { out.append(UInt32(letter)) }
            index += 1
        }
        return out
    }

    /// The consonant skeleton of one folded word (see `ArabicLetters.skeleton` for the alphabet).
    ///
    /// Vowels are dropped; so are "w", "ou" and "y" inside a word, as Arabic writes them as long vowels or not at
    /// all; ch/sh → x, kh → q, gh → g, dj → j, ph → f, th → t, dh → d, c → s before e/i/y and k otherwise,
    /// q → k, g → j before e/i/y and k otherwise, p → b, v → f, x → ks.
    static func skeleton(_ letters: [UInt8]) -> String {
        var out: [UInt8] = []
        // A letter repeated across a vowel is two letters (Bennani is "bnn"); side by side, one ("ck", "mm").
        var afterVowel = false
        func emit(_ character: Character) {
            let ascii = character.asciiValue!
            if out.last != ascii || afterVowel { out.append(ascii) }
            afterVowel = false
        }
        func at(_ index: Int) -> Character {
            index < letters.count ? Character(Unicode.Scalar(letters[index])) : " "
        }
        var index = 0
        while index < letters.count {
            let letter = at(index)
            let next = at(index + 1)
            var step = 1
            switch letter {
            case "a", "e", "i", "u": afterVowel = true
            case "o":
                afterVowel = true
                if next == "u" {
                    if index == 0, "aeiouy".contains(at(index + 2)) { emit("w") }
                    step = 2
                }
            case "y": if index == 0 { emit("y") } else { afterVowel = true }
            case "w": if index == 0 { emit("w") } else { afterVowel = true }
            case "c":
                if next == "h" {
                    emit("x")
                    step = 2
                } else {
                    emit("eiy".contains(next) ? "s" : "k")
                }
            case "s":
                if next == "h" {
                    emit("x")
                    step = 2
                } else if next == "c", at(index + 2) == "h" {
                    emit("x")
                    step = 3
                } else {
                    emit("s")
                }
            case "k": if next == "h" { emit("q"); step = 2 } else { emit("k") }
            case "g":
                if next == "h" {
                    emit("g")
                    step = 2
                } else {
                    emit("eiy".contains(next) ? "j" : "k")
                }
            case "d": if next == "j" || next == "h" { emit(next == "j" ? "j" : "d"); step = 2 } else { emit("d") }
            case "t":
                if next == "c", at(index + 2) == "h" {
                    emit("x")
                    step = 3
                } else {
                    emit("t")
                    if next == "h" { step = 2 }
                }
            case "p": if next == "h" { emit("f"); step = 2 } else { emit("b") }
            case "q": emit("k")
            case "v": emit("f")
            case "x": emit("k"); emit("s")
            default: emit(letter)
            }
            index += step
        }
        return String(decoding: out, as: UTF8.self)
    }
}

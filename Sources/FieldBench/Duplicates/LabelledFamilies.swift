package import FieldDomain

/// The ways one family ends up registered twice, as the labelled set knows them.
package enum DuplicateKind: String, CaseIterable, Sendable, Codable {
    /// The phone typed in another format, or with one digit wrong; the name as before.
    case phoneRetyped = "phone_retyped"
    /// The head's name written in the other script (Arabic for Latin, or the reverse).
    case otherScript = "other_script"
    /// Another French spelling of the name (Mohammed for Mohamed, Alaoui for El Alaoui).
    case spelling
    /// One letter of the name mistyped.
    case typo
    /// Another member of the same household registers it with themself as head: same family name, phone, address.
    case differentHead = "different_head"
}

/// A seeded, labelled set of families: genuine ones, and duplicates of some of them of each kind.
package struct LabelledFamilies: Sendable {
    package var families: [FamilyCandidate]
    /// Each duplicate's pair (original, duplicate) and kind.
    package var duplicates: [FamilyPair: DuplicateKind]
    package var genuineCount: Int

    /// `genuine` families over the cities of `Places` (or one city), and `duplicateShare` × genuine duplicates,
    /// the kinds in equal numbers. Genuine families sometimes give a neighbour's or relative's phone (2% and 1%),
    /// and common names are common: those are the pairs that must not match.
    package init(genuine: Int, duplicateShare: Double = 0.12, seed: UInt64, city: String? = nil) {
        var random = SeededRandom(seed: seed)
        var maker = FamilyMaker(random: random)
        var families: [FamilyCandidate] = []
        var phones: [[Int]?] = []
        for index in 0..<genuine {
            let (family, digits) = maker.genuine(index: index, city: city, previous: families, phones: phones)
            families.append(family)
            phones.append(digits)
        }
        random = maker.random
        var duplicates: [FamilyPair: DuplicateKind] = [:]
        let count = Int((Double(genuine) * duplicateShare).rounded())
        var originals = Array(0..<genuine).shuffled(using: &random)[...]
        var index = 0
        while index < count, let original = originals.popFirst() {
            let kind = DuplicateKind.allCases[index % DuplicateKind.allCases.count]
            maker.random = random
            guard
                let copy = maker.duplicate(
                    of: families[original], digits: phones[original], kind: kind, id: "dup-\(index)")
            else {
                random = maker.random
                continue
            }
            random = maker.random
            families.append(copy)
            duplicates[FamilyPair(families[original].id, copy.id)] = kind
            index += 1
        }
        // Registrations arrive in no particular order.
        self.families = families.shuffled(using: &random)
        self.duplicates = duplicates
        self.genuineCount = genuine
    }
}

import FieldDomain
import Foundation

/// Makes the families of `LabelledFamilies`, one random draw after another.
struct FamilyMaker {
    var random: SeededRandom
    /// What the generator knows of each family it made and the matcher does not see.
    private var people: [String: Person] = [:]

    struct Person {
        var first: MoroccanNames.Name
        var family: MoroccanNames.Name
        var arabic: Bool
        var familyFirst: Bool
    }

    init(random: SeededRandom) { self.random = random }

    mutating func genuine(
        index: Int, city: String?, previous: [FamilyCandidate], phones: [[Int]?]
    )
        -> (FamilyCandidate, [Int]?)
    {
        let place =
            city.flatMap { name in Places.cities.first { $0.name == name } }
            ?? random.weighted(Places.cities, weight: \.weight)
        let female = random.chance(0.45)
        let person = Person(
            first: random.weighted(female ? MoroccanNames.female : MoroccanNames.male, weight: \.weight),
            family: random.weighted(MoroccanNames.family, weight: \.weight),
            arabic: random.chance(0.25), familyFirst: random.chance(0.2))
        let district = random.pick(place.districts)
        var digits: [Int]? = random.chance(0.08) ? nil : Places.phone(using: &random)
        // A neighbour's phone (2%: another family of the district) or a relative's elsewhere in the city (1%).
        let roll = Double.random(in: 0..<1, using: &random)
        if roll < 0.03,
            let other = previous.indices.last(where: { i in
                previous[i].city == place.name && phones[i] != nil
                    && (roll < 0.02) == (previous[i].district == district)
                    && (roll < 0.02) != (people[previous[i].id]?.family.latin == person.family.latin)
            })
        {
            digits = phones[other]
        }
        let number = String(index)
        let id = "fam-" + String(repeating: "0", count: max(0, 5 - number.count)) + number
        people[id] = person
        let family = FamilyCandidate(
            id: id, city: place.name, reference: "\(place.name.prefix(3).uppercased())-\(10_000 + index)",
            headName: person.arabic
                ? name(person, written: person.first.arabic, family: person.family.arabic)
                : name(person, written: latin(person.first), family: latin(person.family)),
            phone: digits.map { Places.typed($0, arabic: person.arabic, using: &random) }, district: district,
            address: random.chance(0.7) ? Places.address(using: &random) : nil,
            householdSize: random.weighted(Array(1...10)) { [4, 8, 14, 18, 18, 14, 10, 6, 4, 3][$0 - 1] },
            association: "assoc-\(place.name.prefix(3).lowercased())-\(Int.random(in: 1...4, using: &random))")
        return (family, digits)
    }

    /// A second registration of `original`; nil when the kind does not apply (no phone to retype, no variant).
    mutating func duplicate(
        of original: FamilyCandidate, digits: [Int]?, kind: DuplicateKind, id: String
    )
        -> FamilyCandidate?
    {
        guard var person = people[original.id] else { return nil }
        var copy = original
        copy.id = id
        copy.reference = "\(original.city.prefix(3).uppercased())-D\(id.dropFirst(4))"
        copy.association = "assoc-\(original.city.prefix(3).lowercased())-\(Int.random(in: 1...4, using: &random))"
        copy.address = original.address.map { random.chance(0.2) ? nil : Places.retyped($0, using: &random) } ?? nil
        if random.chance(0.1), let city = Places.cities.first(where: { $0.name == original.city }) {
            copy.district = random.pick(city.districts)  // moved, or another district name for the same place
        }
        if let size = original.householdSize {
            let change = random.weighted([(0, 70), (1, 12), (-1, 12), (2, 6)]) { $0.1 }.0
            copy.householdSize = max(1, size + change)
        }
        var keepsPhone = 0.75
        switch kind {
        case .phoneRetyped:
            guard var digits else { return nil }
            if random.chance(0.3) {
                let position = Int.random(in: 1..<9, using: &random)
                if random.chance(0.5), position < 8 {
                    digits.swapAt(position, position + 1)
                } else {
                    digits[position] = (digits[position] + Int.random(in: 1...9, using: &random)) % 10
                }
            }
            var typed = Places.typed(digits, arabic: person.arabic, using: &random)
            if typed == original.phone { typed = Places.typed(digits, arabic: !person.arabic, using: &random) }
            copy.phone = typed
            return copy
        case .otherScript:
            person.arabic.toggle()
            copy.headName =
                person.arabic
                ? name(person, written: person.first.arabic, family: person.family.arabic)
                : name(person, written: latin(person.first), family: latin(person.family))
        case .spelling:
            let changeFirst = random.chance(0.5)
            guard !person.arabic,
                let changed = NameVariants.spelling(of: changeFirst ? person.first : person.family, using: &random)
            else { return nil }
            copy.headName = name(
                person, written: changeFirst ? changed : person.first.latin,
                family: changeFirst ? person.family.latin : changed)
        case .typo:
            let changeFirst = random.chance(0.5)
            let first = person.arabic ? person.first.arabic : person.first.latin
            let family = person.arabic ? person.family.arabic : person.family.latin
            copy.headName = name(
                person, written: changeFirst ? NameVariants.typo(first, using: &random) : first,
                family: changeFirst ? family : NameVariants.typo(family, using: &random))
        case .differentHead:
            keepsPhone = 0.9
            let others = (random.chance(0.5) ? MoroccanNames.female : MoroccanNames.male)
                .filter { $0.latin != person.first.latin }
            person.first = random.weighted(others, weight: \.weight)
            copy.headName =
                person.arabic
                ? name(person, written: person.first.arabic, family: person.family.arabic)
                : name(person, written: person.first.latin, family: person.family.latin)
            copy.address = original.address
            copy.district = original.district
            copy.householdSize = original.householdSize.map { $0 + (random.chance(0.5) ? 0 : -1) }.map { max(1, $0) }
        }
        if let digits, random.chance(keepsPhone) {
            copy.phone = Places.typed(digits, arabic: person.arabic, using: &random)
        } else {
            // No phone this time, or a new number.
            copy.phone =
                random.chance(0.5) ? nil : Places.typed(Places.phone(using: &random), arabic: false, using: &random)
        }
        people[id] = person
        return copy
    }

    /// The usual spelling, or now and then a variant (genuine families write "Mohammed" too).
    private mutating func latin(_ name: MoroccanNames.Name) -> String {
        random.chance(0.85) || name.variants.isEmpty ? name.latin : random.pick(name.variants)
    }

    private func name(_ person: Person, written first: String, family: String) -> String {
        person.familyFirst && !person.arabic ? "\(family) \(first)" : "\(first) \(family)"
    }
}

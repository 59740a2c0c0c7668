import FieldDomain
import Testing

@Suite struct FamilyMatcherTests {
    @Test func sameFamilyInTheOtherScriptMatchesWithItsEvidence() throws {
        let known = family("a", "Mohamed Bennani", phone: "06 12 34 56 78", district: "Agdal", size: 5)
        let matcher = FamilyMatcher(families: makeCity() + [known])
        let new = family("new", "محمد بناني", phone: "+212 612-345-678", district: "Agdal", size: 6)
        let match = try #require(matcher.matches(for: new).first)
        #expect(match.family.id == "a")
        #expect(match.margin > 0)
        let texts = match.evidence.map(\.text)
        #expect(texts.contains("same phone (0612…78)"))
        #expect(texts.contains("name: محمد بناني ≈ Mohamed Bennani (transliterated)"))
        #expect(texts.contains("same district"))
        #expect(texts.contains("household size 6 vs 5"))
        #expect(match.evidence.first { $0.kind == .phone }!.weight > 0)
        #expect(match.evidence.first { $0.kind == .householdSize }!.weight < 1)
        #expect(abs(match.evidence.reduce(0) { $0 + $1.weight } - match.score) < 1e-9)
        #expect(match.explanation.contains { $0.hasPrefix("+") && $0.hasSuffix(" same phone (0612…78)") })
    }

    @Test func aPhoneOneDigitOffAndASpellingVariantMatch() throws {
        let known = family("a", "Fatima El Alaoui", phone: "0661234567", district: "Takaddoum", size: 4)
        let matcher = FamilyMatcher(families: makeCity() + [known])
        let new = family("new", "Fatma Alaoui", phone: "06 61 23 45 76", district: "Takaddoum", size: 4)
        let match = try #require(matcher.matches(for: new).first)
        #expect(match.family.id == "a")
        #expect(match.evidence.contains { $0.kind == .phoneSlip })
        #expect(match.evidence.contains { $0.text.contains("spelling variant") })
    }

    @Test func twoFamiliesWithACommonNameAndNothingElseDoNotMatch() {
        // Mohamed Alaoui is frequent: 12 families of the city have the name, each in a district of its own.
        let districts = [
            "Agdal", "Akkari", "Médina", "Souissi", "Hassan", "Océan", "Aviation", "Riad", "Yacoub",
            "Kasbah", "Diour Jamaa", "Hay Al Fath",
        ]
        let namesakes = (0..<12).map { index in
            family(
                "ns-\(index)", index % 2 == 0 ? "Mohamed Alaoui" : "محمد العلوي",
                phone: "07\(20_000_000 + index * 3_141_593)",
                district: districts[index], size: 1 + index % 8)
        }
        let matcher = FamilyMatcher(families: makeCity() + namesakes)
        let new = family("new", "Mohamed Alaoui", phone: "0655443322", district: "Hay Nahda", size: 9)
        #expect(matcher.matches(for: new).isEmpty)
        let namesakePairs = matcher.pairs().filter { $0.first.id.hasPrefix("ns-") && $0.second.id.hasPrefix("ns-") }
        #expect(namesakePairs.isEmpty, "\(namesakePairs.map(\.explanation))")
    }

    @Test func aNeighboursPhoneAloneIsNotADuplicate() {
        let known = family("a", "Karima Naciri", phone: "0612345678", district: "Agdal", size: 3)
        let matcher = FamilyMatcher(families: makeCity() + [known])
        let neighbour = family("new", "Naima Bouazza", phone: "0612345678", district: "Agdal", size: 6)
        #expect(matcher.matches(for: neighbour).isEmpty)
        let reasons = matcher.compare(neighbour, known).evidence.map(\.kind)
        #expect(reasons.contains(.phone) && reasons.contains(.nameDiffers))
    }

    @Test func anotherHeadOfTheSameHouseholdMatches() throws {
        let known = family(
            "a", "Hassan Ouazzani", phone: "0612345678", district: "Agdal", address: "Rue 12 n° 4", size: 6)
        let matcher = FamilyMatcher(families: makeCity() + [known])
        let son = family(
            "new", "Youssef Ouazzani", phone: "06 12 34 56 78", district: "Agdal", address: "rue 12, No 4", size: 6)
        let match = try #require(matcher.matches(for: son).first)
        #expect(match.evidence.contains { $0.kind == .address })
        #expect(match.evidence.contains { $0.kind == .nameDiffers && $0.weight < 0 })
    }

    @Test func pairsMarkedNotADuplicateNeverReappear() {
        let a = family("a", "Mohamed Bennani", phone: "0612345678", district: "Agdal", size: 5)
        let b = family("b", "Mohammed Benani", phone: "0612345678", district: "Agdal", size: 5)
        let c = family("c", "محمد بناني", phone: "0612345678", district: "Agdal", size: 5)
        let city = makeCity() + [a, b, c]
        let before = FamilyMatcher(families: city)
        #expect(before.pairs().contains { $0.ids == FamilyPair("b", "a") })
        let marked: Set<FamilyPair> = [FamilyPair("b", "a")]
        let after = FamilyMatcher(families: city, notDuplicates: marked)
        #expect(!after.pairs().contains { $0.ids == FamilyPair("a", "b") })
        #expect(!after.matches(for: a).contains { $0.family.id == "b" })
        #expect(!after.matches(for: b).contains { $0.family.id == "a" })
        // Only that pair: a and c are still reported.
        #expect(after.pairs().contains { $0.ids == FamilyPair("a", "c") })
    }

    @Test func familiesOfOtherCitiesAreNeverCompared() {
        let known = family("a", "Mohamed Bennani", phone: "0612345678", district: "Agdal", size: 5, city: "Fès")
        let matcher = FamilyMatcher(families: makeCity() + [known])
        let new = family("new", "Mohamed Bennani", phone: "0612345678", district: "Agdal", size: 5)
        #expect(matcher.matches(for: new).isEmpty)
    }

    @Test func aFamilyIsNotItsOwnDuplicate() {
        let known = family("a", "Mohamed Bennani", phone: "0612345678", district: "Agdal", size: 5)
        let matcher = FamilyMatcher(families: makeCity() + [known])
        #expect(matcher.matches(for: known).isEmpty)
    }
}

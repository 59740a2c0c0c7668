import FieldDomain
import Testing

/// What an admin reads about a pair: each piece of evidence in words, with its weight.
@Suite struct ExplanationTests {
    let matcher = FamilyMatcher(families: makeCity())

    func texts(_ a: FamilyCandidate, _ b: FamilyCandidate) -> [String] {
        matcher.compare(a, b).evidence.map(\.text)
    }

    @Test func nameLevelsAreNamed() {
        let fatima = family("a", "Fatima El Alaoui")
        #expect(texts(fatima, family("b", "Fatima El Alaoui")) == ["same name (Fatima El Alaoui)"])
        #expect(
            texts(fatima, family("b", "Fatma Alaoui")) == [
                "name: Fatima El Alaoui ≈ Fatma Alaoui (same, spelling variant)"
            ])
        #expect(
            texts(fatima, family("b", "فاطمة العلوي")) == ["name: Fatima El Alaoui ≈ فاطمة العلوي (transliterated)"])
        #expect(
            texts(fatima, family("b", "Fatina El Alaoui")) == ["name: Fatima El Alaoui ≈ Fatina El Alaoui (same, typo)"]
        )
    }

    /// Fatiha is not Fatima, Samira is not Samir, Karima is not Naima: different words, weighed against.
    @Test(arguments: [("Fatima", "Fatiha"), ("Samir", "Samira"), ("Karima", "Naima"), ("Said", "سعيدة")])
    func similarNamesAreNotVariants(a: String, b: String) {
        let match = matcher.compare(family("a", "\(a) Tazi"), family("b", "\(b) Tazi"))
        #expect(!match.evidence.contains { $0.text.contains("spelling variant") || $0.text.contains("transliterated") })
        #expect(
            match.evidence.contains { $0.kind == .nameDiffers && $0.weight < 0 }
                || match.evidence.contains {
                    $0.text.hasSuffix("(same, typo)")
                })
    }

    @Test func householdDistrictPhoneAndAddressInWords() {
        let a = family(
            "a", "Hassan Tazi", phone: "0612345678", district: "Agdal", address: "Rue 12 n° 4", size: 5)
        let b = family(
            "b", "Hassan Tazi", phone: "0612345687", district: "Akkari", address: "rue 12, No 4", size: 6)
        let evidence = matcher.compare(a, b).evidence
        let byKind = Dictionary(evidence.map { ($0.kind, $0) }, uniquingKeysWith: { first, _ in first })
        #expect(byKind[.phoneSlip]?.text == "phones one digit apart (0612…78 / 0612…87)")
        #expect(byKind[.districtDiffers]?.text == "different districts")
        #expect((byKind[.districtDiffers]?.weight ?? 0) < 0)
        #expect(byKind[.address]?.text == "same address")
        #expect(byKind[.householdSize]?.text == "household size 5 vs 6")
        let far = matcher.compare(a, family("c", "Hassan Tazi", size: 9)).evidence
        #expect(far.contains { $0.kind == .householdSize && $0.weight < 0 })
    }
}

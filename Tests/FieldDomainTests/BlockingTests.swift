import FieldBench
import FieldDomain
import Testing

/// The indexes and the early cut-off only save time: they find what comparing with every family would find.
@Suite struct BlockingTests {
    @Test(arguments: [11 as UInt64, 12])
    func entryChecksFindWhatAFullScanFinds(seed: UInt64) {
        let labelled = LabelledFamilies(genuine: 500, seed: seed, city: "Tanger")
        let known = Array(labelled.families.dropLast(40))
        let matcher = FamilyMatcher(families: known)
        var found = 0
        for family in labelled.families.suffix(40) {
            let indexed = Set(matcher.matches(for: family).map(\.family.id))
            let scanned = Set(known.filter { matcher.compare(family, $0).margin >= 0 }.map(\.id))
            #expect(indexed == scanned, "\(family.headName)")
            found += indexed.count
        }
        #expect(found > 0)
    }

    @Test func pairsAreThePairsOfEachFamilysCheck() {
        let labelled = LabelledFamilies(genuine: 300, seed: 13, city: "Oujda")
        let matcher = FamilyMatcher(families: labelled.families)
        let pairs = Set(matcher.pairs().map(\.ids))
        let checked = Set(
            labelled.families.flatMap { family in
                matcher.matches(for: family).map { FamilyPair(family.id, $0.family.id) }
            })
        #expect(pairs == checked)
        #expect(!pairs.isEmpty)
    }
}

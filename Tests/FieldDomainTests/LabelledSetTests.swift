import FieldBench
import FieldDomain
import Testing

@Suite struct LabelledSetTests {
    static let seed: UInt64 = 7

    @Test func theGeneratorIsDeterministicAndHoldsEveryKind() {
        let a = LabelledFamilies(genuine: 400, seed: Self.seed)
        let b = LabelledFamilies(genuine: 400, seed: Self.seed)
        #expect(a.families == b.families)
        #expect(a.duplicates == b.duplicates)
        #expect(Double(a.duplicates.count) >= 0.1 * Double(a.genuineCount))
        for kind in DuplicateKind.allCases {
            #expect(a.duplicates.values.filter { $0 == kind }.count >= 8, "\(kind)")
        }
        #expect(Set(a.families.map(\.city)).count == 8)
        #expect(a.families.contains { $0.headName.unicodeScalars.contains { (0x0600...0x06FF).contains($0.value) } })
        #expect(LabelledFamilies(genuine: 400, seed: Self.seed + 1).families != a.families)
    }

    /// The targets, on a smaller set than the benchmark's (which shows them at 2,000 families).
    @Test func recallAndPrecisionReachTheTargets() {
        let labelled = LabelledFamilies(genuine: 1000, seed: Self.seed)
        let reported = Set(FamilyMatcher(families: labelled.families).pairs().map(\.ids))
        let figures = DuplicateEvaluation(reported: reported, labelled: labelled)
        print(
            "seed \(Self.seed): precision \(figures.precision), recall \(figures.recall), \(figures.falsePairs) false")
        #expect(figures.recall >= 0.95)
        #expect(figures.precision >= 0.9)
        for kind in DuplicateKind.allCases {
            #expect((figures.perKind[kind.rawValue]?.recall ?? 0) >= 0.85, "\(kind)")
        }
        let baseline = DuplicateEvaluation(reported: TextMatchBaseline.pairs(labelled.families), labelled: labelled)
        #expect(figures.falsePairs < baseline.falsePairs)
    }
}

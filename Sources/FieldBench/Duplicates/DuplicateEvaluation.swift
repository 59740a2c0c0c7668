package import FieldDomain

/// Precision and recall of a set of reported pairs against the labelled duplicates.
package struct DuplicateEvaluation: Sendable, Codable {
    package struct KindFigures: Sendable, Codable {
        package var duplicates: Int
        package var found: Int
        package var recall: Double
    }

    package var precision: Double
    package var recall: Double
    package var reportedPairs: Int
    package var truePairs: Int
    package var falsePairs: Int
    /// Share of the genuine families that appear in a false pair: those a volunteer would be told, at entry,
    /// are already registered.
    package var genuineFlagged: Double
    package var perKind: [String: KindFigures]

    package init(reported: Set<FamilyPair>, labelled: LabelledFamilies) {
        let truth = labelled.duplicates
        let found = reported.filter { truth[$0] != nil }
        let falsePairs = reported.subtracting(found)
        precision = reported.isEmpty ? 1 : Double(found.count) / Double(reported.count)
        recall = truth.isEmpty ? 1 : Double(found.count) / Double(truth.count)
        reportedPairs = reported.count
        truePairs = truth.count
        self.falsePairs = falsePairs.count
        let flagged = Set(falsePairs.flatMap { [$0.first, $0.second] }).filter { !$0.hasPrefix("dup-") }
        genuineFlagged = Double(flagged.count) / Double(max(1, labelled.genuineCount))
        var perKind: [String: KindFigures] = [:]
        for kind in DuplicateKind.allCases {
            let pairs = truth.filter { $0.value == kind }.map(\.key)
            let hits = pairs.filter(found.contains).count
            perKind[kind.rawValue] = KindFigures(
                duplicates: pairs.count, found: hits, recall: pairs.isEmpty ? 1 : Double(hits) / Double(pairs.count))
        }
        self.perKind = perKind
    }
}

/// The matching the CLI did before `FamilyMatcher`: same reference, same `TextMatch.phoneKey`, or names
/// `TextMatch.similar` after `TextMatch.normalize`, within a city.
package enum TextMatchBaseline {
    package static func pairs(_ families: [FamilyCandidate]) -> Set<FamilyPair> {
        var result = Set<FamilyPair>()
        let byCity = Dictionary(grouping: families, by: \.city)
        for city in byCity.keys.sorted() {
            let members = byCity[city] ?? []
            let keys = members.map { family in
                (
                    reference: TextMatch.normalize(family.reference), phone: family.phone.flatMap(TextMatch.phoneKey),
                    name: TextMatch.normalize(family.headName)
                )
            }
            for i in members.indices {
                for j in members.indices where j > i {
                    let (a, b) = (keys[i], keys[j])
                    if (!a.reference.isEmpty && a.reference == b.reference) || (a.phone != nil && a.phone == b.phone)
                        || TextMatch.similar(a.name, b.name)
                    {
                        result.insert(FamilyPair(members[i].id, members[j].id))
                    }
                }
            }
        }
        return result
    }
}

import SyncCore

extension ImportPlanner {
    /// Turns each new family that ``FamilyMatcher`` finds likely to be an existing family of its city, or the
    /// family of an earlier new row, into a likely duplicate (with the evidence).
    ///
    /// The matcher holds the city's families that are not merged into another, and the new rows: its bar
    /// is the one the city will have once they are in. Rows that change an existing family are not checked
    /// (the report already pairs existing families).
    static func markDuplicates(
        _ planned: [PlannedRow], incoming: [(row: Int, candidate: FamilyCandidate)], state: ImportState
    ) -> [PlannedRow] {
        guard !incoming.isEmpty else { return planned }
        let cities = Set(incoming.map(\.candidate.city))
        var existing: [FamilyCandidate] = []
        for family in state.families where family.values["merged_into"]?.textValue == nil {
            guard let city = family.values["city"]?.textValue, cities.contains(city) else { continue }
            var record = family.values
            record["id"] = .text(family.id)
            if let candidate = FamilyCandidate(record: record) { existing.append(candidate) }
        }
        let matcher = FamilyMatcher(families: existing + incoming.map(\.candidate))
        let lineOf = Dictionary(uniqueKeysWithValues: incoming.map { ($0.candidate.id, planned[$0.row].line) })
        var result = planned
        for (position, candidate) in incoming {
            let line = planned[position].line
            let likely = matcher.matches(for: candidate).compactMap { match -> LikelyDuplicate? in
                let other = match.family
                if let otherLine = lineOf[other.id] {
                    guard otherLine < line else { return nil }
                    return LikelyDuplicate(
                        familyID: nil, line: otherLine,
                        label: "line \(otherLine): \(other.reference) \(other.headName)",
                        evidence: match.explanation, margin: match.margin)
                }
                return LikelyDuplicate(
                    familyID: other.id, line: nil, label: "\(other.reference) \(other.headName) (id \(other.id))",
                    evidence: match.explanation, margin: match.margin)
            }
            guard !likely.isEmpty, case .new(_, let values) = planned[position].verdict else { continue }
            result[position].verdict = .likelyDuplicate(values: values, of: likely)
        }
        return result
    }
}

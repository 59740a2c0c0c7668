/// One piece of evidence for or against two families being the same, with its weight.
public struct MatchEvidence: Sendable, Hashable {
    public enum Kind: String, Sendable {
        case reference, phone, phoneSlip, phoneDiffers, name, nameDiffers, district, districtDiffers, address
        case householdSize, association
    }

    public var kind: Kind
    /// How much more likely this is for one family registered twice than for two families, in bits
    /// (log2 of the likelihood ratio): +3 is 8 times more likely, −3 eight times less.
    public var weight: Double
    /// What an admin reads: "same phone (0612…78)", "household size 5 vs 6".
    public var text: String
}

/// An existing family that is likely the one being checked.
public struct Match: Sendable {
    /// The existing family.
    public var family: FamilyCandidate
    public var evidence: [MatchEvidence]
    /// The sum of the evidence's weights.
    public var score: Double
    /// The score two families of this city need to be reported: it grows with the city, as more families
    /// means more chance agreements.
    public var bar: Double

    /// How far above the bar: 0 is "as likely a duplicate as not".
    public var margin: Double { score - bar }

    /// One line per piece of evidence, strongest first, with its weight: "+21.3 same phone (0612…78)".
    public var explanation: [String] {
        evidence.sorted { abs($0.weight) > abs($1.weight) }.map { item in
            let rounded = (item.weight * 10).rounded() / 10
            return "\(rounded >= 0 ? "+" : "")\(rounded) \(item.text)"
        }
    }
}

/// Two families of one city that are likely one family registered twice (`FamilyMatcher.pairs()`).
public struct MatchPair: Sendable {
    public var first: FamilyCandidate
    public var second: FamilyCandidate
    public var evidence: [MatchEvidence]
    public var score: Double
    public var bar: Double

    public var margin: Double { score - bar }
    public var ids: FamilyPair { FamilyPair(first.id, second.id) }
    public var explanation: [String] {
        Match(family: second, evidence: evidence, score: score, bar: bar).explanation
    }
}

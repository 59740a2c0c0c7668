import Foundation

/// The weight of each piece of evidence: log2 of how much likelier it is for one family registered twice (m) than
/// for two families of the city (u, measured on the city's families where it can be).
///
/// The m values are what re-registrations look like in the field (a volunteer typing again what a family says):
/// the phone kept in 8 registrations out of 10, the district in 9, the size within one in 9, a name word spelled
/// the same or a variant in 9.
struct Scoring {
    let city: CityIndex
    /// Whether the family checked is one of the city's indexed families (its own words are then counted).
    let queryIndexed: Bool

    var size: Double { Double(max(city.count, 2)) }

    /// The evidence between the checked family `a` and the indexed family `b`; texts only when `explain` is set.
    func score(_ a: Scored, _ b: Scored, explain: Bool) -> EvidenceList {
        var list = EvidenceList(explain: explain)
        addHousehold(a, b, to: &list)
        NameScoring(size: size, queryIndexed: queryIndexed).add(a, b, to: &list)
        return list
    }

    /// The score of `a` and `b`, or nil as soon as it is sure to stay under `minimum`: the household's evidence
    /// (cheap) plus the most the names could add (`NameScoring.upperBound`) is checked before the names are compared.
    func score(_ a: Scored, _ b: Scored, nameBound: Double, atLeast minimum: Double) -> Double? {
        var list = EvidenceList(explain: false)
        addHousehold(a, b, to: &list)
        guard list.score + nameBound >= minimum else { return nil }
        NameScoring(size: size, queryIndexed: queryIndexed).add(a, b, to: &list)
        return list.score >= minimum ? list.score : nil
    }

    /// Whether `a` and `b` may reach `minimum`: the first step of ``score(_:_:nameBound:atLeast:)``, for a family
    /// whose household alone is known (the domain's index drops the others before reading them).
    func mayReach(_ a: Scored, _ b: Scored, nameBound: Double, atLeast minimum: Double) -> Bool {
        var list = EvidenceList(explain: false)
        addHousehold(a, b, to: &list)
        return list.score + nameBound >= minimum
    }

    /// The evidence of everything but the names: reference, phone, district, address, household size, association.
    func addHousehold(_ a: Scored, _ b: Scored, to list: inout EvidenceList) {
        let (x, y) = (a.features, b.features)
        if let reference = x.reference, reference == y.reference {
            list.add(.reference, log2(size) + 10, "same reference (\(reference))")
        }
        if let phone = x.phone, let other = y.phone {
            let same = log2(0.8 * size / city.phoneShared)
            if phone == other {
                list.add(.phone, same, "same phone (\(phone.masked))")
            } else if phone.isOneSlip(from: other) {
                // A slip is 16 times rarer than a number typed right (m), and numbers one slip apart are far
                // likelier than chance (u): SIM cards bought together have neighbouring numbers.
                list.add(.phoneSlip, same - 7, "phones one digit apart (\(phone.masked) / \(other.masked))")
            } else {
                list.add(.phoneDiffers, log2(0.2), "different phones")
            }
        }
        if let district = x.district, let other = y.district {
            let p = city.districtCollision
            if district == other {
                list.add(.district, log2(0.9 / p), "same district")
            } else {
                list.add(.districtDiffers, log2(0.1 / max(0.01, 1 - p)), "different districts")
            }
        }
        if let address = x.address, address == y.address {
            list.add(.address, log2(0.5 * size / city.addressShared), "same address")
        }
        if let first = x.size, let second = y.size {
            let gap = abs(first - second)
            let weight =
                gap == 0
                ? log2(0.6 / city.sizeSame)
                : gap == 1
                    ? log2(0.3 / max(0.01, city.sizeNear)) : log2(0.1 / max(0.01, 1 - city.sizeSame - city.sizeNear))
            list.add(
                .householdSize, weight,
                gap == 0 ? "same household size (\(first))" : "household size \(first) vs \(second)")
        }
        if let association = x.association, let other = y.association {
            let p = city.associationCollision
            if association == other {
                list.add(.association, log2(0.4 / p), "same association")
            } else {
                list.add(.association, log2(0.6 / max(0.01, 1 - p)), "different associations")
            }
        }
    }
}

/// A family's features with the counts of its name words in the city.
struct Scored {
    let features: FamilyFeatures
    let counts: [TokenCounts]
}

/// The evidence of one comparison; texts are only built when `explain` is set, as entry scores thousands.
struct EvidenceList {
    let explain: Bool
    private(set) var score = 0.0
    private(set) var items: [MatchEvidence] = []

    init(explain: Bool) { self.explain = explain }

    mutating func add(_ kind: MatchEvidence.Kind, _ weight: Double, _ text: @autoclosure () -> String) {
        score += weight
        if explain { items.append(MatchEvidence(kind: kind, weight: weight, text: text())) }
    }
}

/// The name evidence: words aligned in the order that agrees best, each weighed by how common it is in the city.
struct NameScoring {
    let size: Double
    let queryIndexed: Bool

    func add(_ first: Scored, _ second: Scored, to list: inout EvidenceList) {
        let (a, b) = (first.features.tokens, second.features.tokens)
        guard !a.isEmpty, !b.isEmpty, a.count <= 64, b.count <= 64 else { return }
        var options: [(i: Int, j: Int, agreement: NameAgreement, weight: Double)] = []
        for (i, x) in a.enumerated() {
            for (j, y) in b.enumerated() {
                let agreement = NameAgreement.of(x, y)
                if agreement != .different {
                    options.append(
                        (i, j, agreement, weight(x, first.counts[i], y, second.counts[j], agreement)))
                }
            }
        }
        options.sort { ($0.agreement, $0.weight) > ($1.agreement, $1.weight) }
        var (usedA, usedB) = (UInt64(0), UInt64(0))
        var total = 0.0
        var levels = Set<NameAgreement>()
        for option in options where usedA & (1 << option.i) == 0 && usedB & (1 << option.j) == 0 {
            usedA |= 1 << option.i
            usedB |= 1 << option.j
            total += option.weight
            if list.explain { levels.insert(option.agreement) }
        }
        if usedA != 0 {
            let (x, y) = (first.features.name, second.features.name)
            list.add(
                .name, total,
                x == y
                    ? "same name (\(x))"
                    : "name: \(x) ≈ \(y) (\(levels.sorted(by: >).map(\.words).joined(separator: ", ")))")
        }
        let restA = a.indices.filter { usedA & (1 << $0) == 0 }
        let restB = b.indices.filter { usedB & (1 << $0) == 0 }
        let conflicts = min(restA.count, restB.count)
        let extras = max(restA.count, restB.count) - conflicts
        guard conflicts + extras > 0 else { return }
        let wordsA = restA.map { a[$0].written }.joined(separator: " ")
        let wordsB = restB.map { b[$0].written }.joined(separator: " ")
        list.add(
            .nameDiffers, Double(conflicts) * log2(0.1 / 0.95) + Double(extras) * log2(0.5),
            conflicts > 0
                ? "name words differ: \(wordsA) / \(wordsB)"
                : "name word on one side only: \(wordsA)\(wordsB)")
    }

    /// The most the words of `family` can add against any family of the city: for each word, the largest weight of
    /// `weight(_:_:_:_:_:)` over the levels, whatever the other word (its counts are at least the candidate's own).
    func upperBound(_ family: Scored) -> Double {
        family.counts.reduce(0.0) { sum, counts in
            let same = log2(0.9 * size / (candidateOthers(counts.form, queryHasIt: true) + 1))
            let skeleton = counts.skeletons.map { log2(0.9 * size / (candidateOthers($0, queryHasIt: true) + 1)) }
            let typo = log2(0.1 * size / (min(queryOthers(counts.form), queryOthers(counts.skeletons[0])) + 1))
            return sum + max(0, same, typo, skeleton.max() ?? 0)
        }
    }

    /// log2(m / u) for one aligned pair of words, u being how often another family of the city has the word.
    func weight(
        _ x: NameToken, _ xCounts: TokenCounts, _ y: NameToken, _ yCounts: TokenCounts, _ agreement: NameAgreement
    ) -> Double {
        switch agreement {
        case .same:
            return log2(0.9 * size / (candidateOthers(yCounts.form, queryHasIt: true) + 1))
        case .spelling, .transliterated:
            let shared = y.skeletons.firstIndex(where: x.skeletons.contains) ?? 0
            return log2(0.9 * size / (candidateOthers(yCounts.skeletons[shared], queryHasIt: true) + 1))
        case .typo:
            let near =
                x.script == y.script
                ? candidateOthers(yCounts.form, queryHasIt: false) + queryOthers(xCounts.form)
                : candidateOthers(yCounts.skeletons[0], queryHasIt: false) + queryOthers(xCounts.skeletons[0])
            return log2(0.1 * size / (near + 1))
        case .different:
            return 0
        }
    }

    /// Families other than the two compared with the candidate's word: its count less the candidate, and less the
    /// checked family when it is indexed and has the word too.
    private func candidateOthers(_ count: Int, queryHasIt: Bool) -> Double {
        Double(max(0, count - 1 - (queryHasIt && queryIndexed ? 1 : 0)))
    }

    private func queryOthers(_ count: Int) -> Double {
        Double(max(0, count - (queryIndexed ? 1 : 0)))
    }
}

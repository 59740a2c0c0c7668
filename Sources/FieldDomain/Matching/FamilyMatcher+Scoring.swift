import Foundation

/// The weight of each piece of evidence: log2 of how much likelier it is for one family registered twice (m) than
/// for two families of the city (u, measured on the city's families where it can be).
///
/// The m values are what re-registrations look like in the field (a volunteer typing again what a family says):
/// the phone kept in 8 registrations out of 10, the district in 9, the size within one in 9, a name word spelled
/// the same or a variant in 9.
struct Scoring {
    let city: CityIndex

    var size: Double { Double(max(city.count, 2)) }

    func score(_ a: FamilyFeatures, _ b: FamilyFeatures, queryIndexed: Bool) -> (Double, [MatchEvidence]) {
        var evidence: [MatchEvidence] = []
        if let reference = a.reference, reference == b.reference {
            evidence.append(.init(kind: .reference, weight: log2(size) + 10, text: "same reference (\(reference))"))
        }
        if let phone = a.phone, let other = b.phone {
            let same = log2(0.8 * size / city.phoneShared)
            if phone == other {
                evidence.append(.init(kind: .phone, weight: same, text: "same phone (\(phone.masked))"))
            } else if phone.isOneSlip(from: other) {
                evidence.append(
                    .init(
                        kind: .phoneSlip, weight: same - 4,
                        text: "phones one digit apart (\(phone.masked) / \(other.masked))"))
            } else {
                evidence.append(.init(kind: .phoneDiffers, weight: log2(0.2), text: "different phones"))
            }
        }
        evidence += NameScoring(city: city, queryIndexed: queryIndexed).evidence(a, b)
        if let district = a.district, let other = b.district {
            let p = city.districtCollision
            evidence.append(
                district == other
                    ? .init(kind: .district, weight: log2(0.9 / p), text: "same district")
                    : .init(kind: .districtDiffers, weight: log2(0.1 / max(0.01, 1 - p)), text: "different districts"))
        }
        if let address = a.address, address == b.address {
            evidence.append(.init(kind: .address, weight: log2(0.5 * size / city.addressShared), text: "same address"))
        }
        if let first = a.size, let second = b.size {
            let gap = abs(first - second)
            let weight =
                gap == 0
                ? log2(0.6 / city.sizeSame)
                : gap == 1
                    ? log2(0.3 / max(0.01, city.sizeNear)) : log2(0.1 / max(0.01, 1 - city.sizeSame - city.sizeNear))
            evidence.append(
                .init(
                    kind: .householdSize, weight: weight,
                    text: gap == 0 ? "same household size (\(first))" : "household size \(first) vs \(second)"))
        }
        if let association = a.association, let other = b.association {
            let p = city.associationCollision
            evidence.append(
                association == other
                    ? .init(kind: .association, weight: log2(0.4 / p), text: "same association")
                    : .init(
                        kind: .association, weight: log2(0.6 / max(0.01, 1 - p)), text: "different associations"))
        }
        return (evidence.reduce(0) { $0 + $1.weight }, evidence)
    }
}

/// The name evidence: words aligned in the order that agrees best, each weighed by how common it is in the city.
struct NameScoring {
    let city: CityIndex
    let queryIndexed: Bool

    var size: Double { Double(max(city.count, 2)) }

    func evidence(_ first: FamilyFeatures, _ second: FamilyFeatures) -> [MatchEvidence] {
        let (a, b) = (first.tokens, second.tokens)
        guard !a.isEmpty, !b.isEmpty else { return [] }
        var options: [(i: Int, j: Int, agreement: NameAgreement, weight: Double)] = []
        for (i, x) in a.enumerated() {
            for (j, y) in b.enumerated() {
                let agreement = NameAgreement.of(x, y)
                if agreement != .different { options.append((i, j, agreement, weight(x, y, agreement))) }
            }
        }
        options.sort { ($0.agreement, $0.weight) > ($1.agreement, $1.weight) }
        var usedA = Set<Int>()
        var usedB = Set<Int>()
        var aligned: [(i: Int, j: Int, agreement: NameAgreement, weight: Double)] = []
        for option in options where !usedA.contains(option.i) && !usedB.contains(option.j) {
            usedA.insert(option.i)
            usedB.insert(option.j)
            aligned.append(option)
        }
        var evidence: [MatchEvidence] = []
        if !aligned.isEmpty {
            aligned.sort { $0.i < $1.i }
            let levels = Set(aligned.map(\.agreement)).sorted(by: >).map(\.words).joined(separator: ", ")
            let exact = first.name == second.name
            evidence.append(
                .init(
                    kind: .name, weight: aligned.reduce(0) { $0 + $1.weight },
                    text: exact
                        ? "same name (\(first.name))" : "name: \(first.name) ≈ \(second.name) (\(levels))"))
        }
        let restA = a.indices.filter { !usedA.contains($0) }.map { a[$0].written }
        let restB = b.indices.filter { !usedB.contains($0) }.map { b[$0].written }
        let conflicts = min(restA.count, restB.count)
        let extras = max(restA.count, restB.count) - conflicts
        if conflicts + extras > 0 {
            let weight = Double(conflicts) * log2(0.1 / 0.95) + Double(extras) * log2(0.5)
            let text =
                conflicts > 0
                ? "name words differ: \(restA.joined(separator: " ")) / \(restB.joined(separator: " "))"
                : "name word on one side only: \((restA + restB).joined(separator: " "))"
            evidence.append(.init(kind: .nameDiffers, weight: weight, text: text))
        }
        return evidence
    }

    /// log2(m / u) for one aligned pair of words, u being how often another family of the city has the word.
    func weight(_ x: NameToken, _ y: NameToken, _ agreement: NameAgreement) -> Double {
        switch agreement {
        case .same:
            return log2(0.9 * size / (others(city.formCount[y.form], x.form == y.form) + 1))
        case .spelling, .transliterated:
            let shared = x.skeletons.first(where: y.skeletons.contains) ?? y.skeleton
            return log2(0.9 * size / (others(city.skeletonCount[shared], true) + 1))
        case .typo:
            let near =
                x.script == y.script
                ? others(city.formCount[y.form], false) + others(city.formCount[x.form], false, query: true)
                : others(city.skeletonCount[y.skeleton], false)
                    + others(city.skeletonCount[x.skeleton], false, query: true)
            return log2(0.1 * size / (near + 1))
        case .different:
            return 0
        }
    }

    /// How many families other than the two compared have a word: `count` less the candidate (and the query when it
    /// is indexed and has the word too).
    private func others(_ count: Int?, _ queryHasIt: Bool, query: Bool = false) -> Double {
        let count = count ?? 0
        let own = query ? (queryIndexed ? 1 : 0) : 1 + (queryHasIt && queryIndexed ? 1 : 0)
        return Double(max(0, count - own))
    }
}

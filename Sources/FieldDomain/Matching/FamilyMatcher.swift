import Foundation

/// Finds families registered twice, within each city, from phones, names in either script and the household.
///
/// A pure value: build it once from a city's (or several cities') families, then check new families against it
/// (`matches(for:)`, at entry) or list every likely pair (`pairs()`, for the admin's report). Candidates come from
/// indexes on the phone (and its one-slip neighbours), the reference and each name word's skeleton, never from a
/// scan of the city; each candidate is scored by the evidence of `FamilyMatcher+Scoring.swift`.
public struct FamilyMatcher: Sendable {
    /// The families compared, in the order given.
    public let families: [FamilyCandidate]
    /// Pairs an admin marked "not a duplicate": never reported again.
    public let notDuplicates: Set<FamilyPair>
    let scored: [Scored]
    let cities: [String: CityIndex]
    let positions: [String: Int]

    /// What a pair must score above the bar of its city, in bits: 0 reports pairs at least as likely to be
    /// one family as two. Raise it to report fewer, surer pairs.
    public static let defaultThreshold = 0.0

    public init(families: [FamilyCandidate], notDuplicates: Set<FamilyPair> = []) {
        self.families = families
        self.notDuplicates = notDuplicates
        let features = families.map(FamilyFeatures.init)
        var cities: [String: CityIndex] = [:]
        for (position, family) in families.enumerated() {
            cities[family.city, default: CityIndex()].add(position, features[position])
        }
        for city in cities.keys { cities[city]?.finish() }
        scored = families.indices.map { position in
            Scored(
                features: features[position],
                counts: cities[families[position].city]?.counts(features[position].tokens) ?? [])
        }
        self.cities = cities
        positions = Dictionary(families.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// A matcher of families of `city` against `candidates`, some of the city's families, weighed with the whole
    /// city's `statistics` (which count every word of the candidates' names and of the families checked): it finds
    /// what a matcher of every family of the city finds, among the candidates (``FamilyKeys``).
    init(city: String, candidates: [FamilyCandidate], statistics: CityStatistics) {
        families = candidates
        notDuplicates = []
        let features = candidates.map(FamilyFeatures.init)
        var index = CityIndex(statistics: statistics)
        for (position, family) in features.enumerated() { index.add(position, family) }
        index.finish()
        scored = features.map { Scored(features: $0, counts: index.counts($0.tokens)) }
        cities = [city: index]
        positions = Dictionary(candidates.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The families of `family.city` that are likely `family`, most likely first.
    ///
    /// `family` need not be one of `families` (a family being registered); if it is (same id), it is not matched
    /// with itself. Pairs in `notDuplicates` are left out.
    public func matches(for family: FamilyCandidate, threshold: Double = defaultThreshold) -> [Match] {
        guard let city = cities[family.city] else { return [] }
        let indexed = positions[family.id].map { families[$0].city == family.city } ?? false
        let features = FamilyFeatures(family)
        let query = Scored(features: features, counts: city.counts(features.tokens))
        let scoring = Scoring(city: city, queryIndexed: indexed)
        let bar = Self.bar(city)
        let nameBound = NameScoring(size: scoring.size, queryIndexed: indexed).upperBound(query)
        var result: [Match] = []
        for position in city.candidates(for: features) {
            let other = families[position]
            guard other.id != family.id,
                scoring.score(query, scored[position], nameBound: nameBound, atLeast: bar + threshold) != nil,
                !notDuplicates.contains(FamilyPair(family.id, other.id))
            else { continue }
            let list = scoring.score(query, scored[position], explain: true)
            result.append(Match(family: other, evidence: list.items, score: list.score, bar: bar))
        }
        return result.sorted { ($0.margin, $1.family.id) > ($1.margin, $0.family.id) }
    }

    /// Every pair of families of one city likely to be one family, by city then most likely first.
    public func pairs(threshold: Double = defaultThreshold) -> [MatchPair] {
        var result: [MatchPair] = []
        for cityName in cities.keys.sorted() {
            guard let city = cities[cityName] else { continue }
            let scoring = Scoring(city: city, queryIndexed: true)
            let bar = Self.bar(city)
            var found: [MatchPair] = []
            let names = NameScoring(size: scoring.size, queryIndexed: true)
            for position in city.members {
                let nameBound = names.upperBound(scored[position])
                for other in city.candidates(for: scored[position].features) where other > position {
                    guard
                        scoring.score(scored[position], scored[other], nameBound: nameBound, atLeast: bar + threshold)
                            != nil
                    else { continue }
                    let pair = FamilyPair(families[position].id, families[other].id)
                    guard pair.first != pair.second, !notDuplicates.contains(pair) else { continue }
                    let list = scoring.score(scored[position], scored[other], explain: true)
                    found.append(
                        MatchPair(
                            first: families[position], second: families[other], evidence: list.items,
                            score: list.score, bar: bar))
                }
            }
            result += found.sorted { ($0.margin, $1.first.id) > ($1.margin, $0.first.id) }
        }
        return result
    }

    /// The evidence between two families, whatever their score (for an admin asking "why not?"); `b` is weighed as
    /// a family of its city.
    public func compare(_ a: FamilyCandidate, _ b: FamilyCandidate) -> Match {
        let city = cities[b.city] ?? CityIndex()
        let indexed = positions[a.id].map { families[$0].city == b.city } ?? false
        let (x, y) = (FamilyFeatures(a), FamilyFeatures(b))
        let list = Scoring(city: city, queryIndexed: indexed).score(
            Scored(features: x, counts: city.counts(x.tokens)), Scored(features: y, counts: city.counts(y.tokens)),
            explain: true)
        return Match(family: b, evidence: list.items, score: list.score, bar: Self.bar(city))
    }

    /// The score a pair of the city needs for even odds: the prior odds that a given other family of the city is
    /// this one are about `duplicateShare` / N, so the evidence must outweigh log2(N / duplicateShare). The more
    /// families, the more chance agreements on names and districts, the higher the bar.
    static func bar(_ city: CityIndex) -> Double {
        log2(Double(max(city.count, 2)) / duplicateShare)
    }

    /// About one registration in ten is a family already registered (the labelled set of FieldBench has 12%).
    static let duplicateShare = 0.1
}

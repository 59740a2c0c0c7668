/// The families of one city, indexed by what blocks candidates, with the frequencies the weights need.
///
/// Built from every family of the city (``FamilyMatcher/init(families:notDuplicates:)``: the frequencies are
/// counted as they are added), or from some of them with the whole city's ``CityStatistics`` given (the check of
/// one family against the domain's index of a replica's families, ``FamilyIndex``).
struct CityIndex: Sendable {
    /// Positions in the matcher's `families`.
    private(set) var members: [Int] = []
    private(set) var byPhone: [String: [Int]] = [:]
    /// Phone keys with one digit replaced by "?".
    private(set) var byPhoneWildcard: [String: [Int]] = [:]
    private(set) var byReference: [String: [Int]] = [:]
    private(set) var byAddress: [String: [Int]] = [:]
    /// Name word skeletons (and their alternates).
    private(set) var bySkeleton: [String: [Int]] = [:]
    /// What the weights know of the whole city.
    private(set) var statistics = CityStatistics()
    /// Whether `statistics` are counted from the families added (else given for the whole city).
    private let counting: Bool

    /// An index whose frequencies are those of the families added.
    init() { counting = true }

    /// An index of some of the city's families, weighed with the whole city's `statistics`.
    init(statistics: CityStatistics) {
        self.statistics = statistics
        counting = false
    }

    /// The families of the city (all of them, not only those added when the statistics are given).
    var count: Int { statistics.families }

    mutating func add(_ position: Int, _ features: FamilyFeatures) {
        members.append(position)
        if let phone = features.phone {
            byPhone[phone.digits, default: []].append(position)
            for key in phone.wildcards { byPhoneWildcard[key, default: []].append(position) }
        }
        if let reference = features.reference { byReference[reference, default: []].append(position) }
        if let address = features.address { byAddress[address, default: []].append(position) }
        for skeleton in Set(features.tokens.flatMap(\.skeletons)) where !skeleton.isEmpty {
            bySkeleton[skeleton, default: []].append(position)
        }
        if counting { statistics.add(features) }
    }

    /// Positions worth scoring against `features`: same reference, same address, same phone or one slip away, or
    /// a name word with the same skeleton (every piece of evidence that can reach a city's bar). Each appears once.
    func candidates(for features: FamilyFeatures) -> [Int] {
        var lists: [[Int]] = []
        if let reference = features.reference, let list = byReference[reference] { lists.append(list) }
        if let address = features.address, let list = byAddress[address] { lists.append(list) }
        if let phone = features.phone {
            if let list = byPhone[phone.digits] { lists.append(list) }
            for key in phone.wildcards { if let list = byPhoneWildcard[key] { lists.append(list) } }
            for key in phone.transpositions { if let list = byPhone[key] { lists.append(list) } }
        }
        for skeleton in Set(features.tokens.flatMap(\.skeletons)) where !skeleton.isEmpty {
            if let list = bySkeleton[skeleton] { lists.append(list) }
        }
        var seen = Set<Int>(minimumCapacity: lists.reduce(0) { $0 + $1.count })
        var result: [Int] = []
        for list in lists { for position in list where seen.insert(position).inserted { result.append(position) } }
        return result
    }

    /// How many families of the city have each word's spelling and skeletons.
    func counts(_ tokens: [NameToken]) -> [TokenCounts] {
        tokens.map { token in
            TokenCounts(
                form: statistics.formCount[token.form] ?? 0,
                skeletons: token.skeletons.map { statistics.skeletonCount[$0] ?? 0 })
        }
    }

    // MARK: Frequencies

    /// The share of families whose phone another family of the city also gives (at least 2%).
    private(set) var phoneShared = 0.02
    /// The share of families whose address key another family also has (at least 2%).
    private(set) var addressShared = 0.02
    /// The chance two families of the city live in the same district.
    private(set) var districtCollision = 1.0
    /// The chance two families have the same household size, and sizes one apart.
    private(set) var sizeSame = 1.0
    private(set) var sizeNear = 0.0
    private(set) var associationCollision = 1.0

    /// Computes the frequencies once every family is added.
    mutating func finish() {
        if counting {
            statistics.phones = byPhone.values.reduce(0) { $0 + $1.count }
            statistics.sharedPhones = byPhone.values.reduce(0) { $0 + ($1.count > 1 ? $1.count : 0) }
            statistics.addresses = byAddress.values.reduce(0) { $0 + $1.count }
            statistics.sharedAddresses = byAddress.values.reduce(0) { $0 + ($1.count > 1 ? $1.count : 0) }
        }
        phoneShared = Self.share(statistics.sharedPhones, of: statistics.phones)
        addressShared = Self.share(statistics.sharedAddresses, of: statistics.addresses)
        districtCollision = Self.collision(statistics.districts)
        associationCollision = Self.collision(statistics.associations)
        // A city's own sizes, with Morocco's as a prior worth `sizePriorWeight` families: a city of a few
        // families says little about how often two sizes agree by chance (one family of 4: any 3 or 5
        // would look like a rare coincidence).
        var frequencies: [Int: Double] = [:]
        for (size, share) in Self.sizePrior { frequencies[size, default: 0] += share * Self.sizePriorWeight }
        for (size, count) in statistics.sizes { frequencies[size, default: 0] += Double(count) }
        let total = frequencies.values.reduce(0, +)
        // Sums in a fixed order: the same families give the same weights, bit for bit, on every run.
        let keys = frequencies.keys.sorted()
        sizeSame = max(0.01, keys.reduce(0.0) { $0 + (frequencies[$1]! / total) * (frequencies[$1]! / total) })
        sizeNear =
            keys.reduce(0.0) { sum, size in sum + frequencies[size]! * (frequencies[size + 1] ?? 0) } * 2
            / (total * total)
    }

    /// Household sizes in Morocco (HCP census 2014: 4.6 persons on average), as shares.
    static let sizePrior: [Int: Double] = [
        1: 0.06, 2: 0.12, 3: 0.17, 4: 0.20, 5: 0.17, 6: 0.12, 7: 0.07, 8: 0.04, 9: 0.03, 10: 0.02,
    ]
    /// How many families the prior counts for.
    static let sizePriorWeight = 50.0

    /// The share of families whose phone (or address) another family also has, with 2% as a prior worth 50
    /// families: in a city of a few families, the very pair being compared would otherwise make a shared
    /// phone look common (two families, one phone: half the city).
    private static func share(_ part: Int, of whole: Int) -> Double {
        min(0.5, max(0.02, (Double(part) + 0.02 * 50) / (Double(whole) + 50)))
    }

    /// The chance two random entries agree, Σ p², at least 1%; 1 when nothing is known. Summed in a fixed order
    /// (the counts sorted), so that the same counts give the same chance, bit for bit, however they were gathered.
    private static func collision<Key>(_ counts: [Key: Int]) -> Double {
        let total = Double(counts.values.reduce(0, +))
        guard total > 0 else { return 1 }
        return max(0.01, counts.values.sorted().reduce(0.0) { $0 + (Double($1) / total) * (Double($1) / total) })
    }
}

/// How many families of a city have a word's spelling, and each of its skeletons (`NameToken.skeletons`).
struct TokenCounts: Sendable {
    var form: Int
    var skeletons: [Int]
}

/// What the weights of ``Scoring`` know of a whole city: how many families, how often phones and addresses are
/// shared, how districts, sizes and associations spread, and how many families have each name word (of the words
/// a check needs, at least).
struct CityStatistics: Sendable, Equatable {
    var families = 0
    /// Families with a phone, and those of them whose phone another family of the city also gives.
    var phones = 0
    var sharedPhones = 0
    /// Families with an address key, and those of them whose key another family also has.
    var addresses = 0
    var sharedAddresses = 0
    var districts: [String: Int] = [:]
    var sizes: [Int: Int] = [:]
    var associations: [String: Int] = [:]
    /// How many families have a name word of this spelling (`NameToken.form`).
    var formCount: [String: Int] = [:]
    /// How many families have a name word of this skeleton.
    var skeletonCount: [String: Int] = [:]

    /// Counts one family (phones and addresses aside: ``CityIndex/finish()`` counts them from its index).
    mutating func add(_ features: FamilyFeatures) {
        families += 1
        for skeleton in Set(features.tokens.flatMap(\.skeletons)) where !skeleton.isEmpty {
            skeletonCount[skeleton, default: 0] += 1
        }
        for form in Set(features.tokens.map(\.form)) { formCount[form, default: 0] += 1 }
        if let district = features.district { districts[district, default: 0] += 1 }
        if let size = features.size { sizes[size, default: 0] += 1 }
        if let association = features.association { associations[association, default: 0] += 1 }
    }
}

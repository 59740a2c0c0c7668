import Foundation
import GRDB
import SyncCore

extension FamilyKeys {
    /// The families of `family.city` in `replica` likely to be `family`, most likely first, with the evidence: what
    /// ``FamilyMatcher`` finds over every family of the city, found from the index instead of a read of them all.
    ///
    /// The index gives the city's frequencies (counts and group counts in SQL) and the families `family` is blocked
    /// with (``CityIndex/candidates(for:)``'s keys); those whose household evidence plus the most their names could
    /// add stays under the bar are dropped as the full scan drops them, and only the others are read and scored.
    /// Brings the index up to date first (a write transaction) when a family changed since.
    static func likelyDuplicates(
        _ family: FamilyCandidate, in replica: Replica
    ) throws -> [(record: [String: Value], match: Match)] {
        do {
            let current = try replica.database.read { db -> [(record: [String: Value], match: Match)]? in
                guard let built = try position(db), try built == head(db) else { return nil }
                return try check(family, db, replica)
            }
            if let current { return current }
            return try replica.database.write { db in
                try catchUp(db, replica)
                return try check(family, db, replica)
            }
        } catch {
            throw Replica.storageError(error)
        }
    }

    /// The check on `db`, the index being up to date.
    static func check(
        _ family: FamilyCandidate, _ db: Database, _ replica: Replica
    ) throws -> [(record: [String: Value], match: Match)] {
        let city = nfc(family.city)
        var statistics = try Self.statistics(db, city: city)
        guard statistics.families > 0 else { return [] }
        let features = FamilyFeatures(family)
        try countWords(db, city: city, features.tokens, into: &statistics)
        // Whether the family checked is one of the city's (an admin checking a family already registered).
        var indexed = false
        if !family.id.isEmpty {
            indexed =
                try Bool.fetchOne(
                    db, sql: "SELECT 1 FROM _family_keys WHERE id = ? AND city = ?", arguments: [family.id, city])
                ?? false
        }
        var probe = CityIndex(statistics: statistics)
        probe.finish()
        let scoring = Scoring(city: probe, queryIndexed: indexed)
        let query = Scored(features: features, counts: probe.counts(features.tokens))
        let nameBound = NameScoring(size: scoring.size, queryIndexed: indexed).upperBound(query)
        let minimum = FamilyMatcher.bar(probe) + FamilyMatcher.defaultThreshold
        var ids = indexed ? [family.id] : []
        for (id, other) in try blocked(db, city: city, features).sorted(by: { $0.key < $1.key }) where id != family.id {
            if scoring.mayReach(query, Scored(features: other, counts: []), nameBound: nameBound, atLeast: minimum) {
                ids.append(id)
            }
        }
        var records: [String: [String: Value]] = [:]
        var candidates: [FamilyCandidate] = []
        for id in ids {
            guard let values = try replica.record(db, "families", id: id) else { continue }
            let record = values.merging(["id": .text(id)]) { a, _ in a }
            guard let candidate = FamilyCandidate(record: record) else { continue }
            records[id] = record
            candidates.append(candidate)
        }
        try countWords(
            db, city: city, candidates.flatMap { NameTransliteration.tokens($0.headName) }, into: &statistics)
        let matcher = FamilyMatcher(city: family.city, candidates: candidates, statistics: statistics)
        return matcher.matches(for: family).compactMap { match in records[match.family.id].map { ($0, match) } }
    }

    /// What the weights need of the whole city (name words aside: ``countWords(_:city:_:into:)``).
    static func statistics(_ db: Database, city: String) throws -> CityStatistics {
        var statistics = CityStatistics()
        statistics.families =
            try Int.fetchOne(db, sql: "SELECT count(*) FROM _family_keys WHERE city = ?", arguments: [city]) ?? 0
        guard statistics.families > 0 else { return statistics }
        for column in ["phone", "address"] {
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT coalesce(sum(n), 0), coalesce(sum(CASE WHEN n > 1 THEN n ELSE 0 END), 0)
                    FROM (SELECT count(*) AS n FROM _family_keys WHERE city = ? AND \(column) IS NOT NULL
                          GROUP BY \(column))
                    """, arguments: [city])
            let (all, shared): (Int, Int) = (row?[0] ?? 0, row?[1] ?? 0)
            if column == "phone" {
                (statistics.phones, statistics.sharedPhones) = (all, shared)
            } else {
                (statistics.addresses, statistics.sharedAddresses) = (all, shared)
            }
        }
        func groups(_ column: String) throws -> [(DatabaseValue, Int)] {
            try Row.fetchAll(
                db,
                sql: """
                    SELECT \(column), count(*) FROM _family_keys WHERE city = ? AND \(column) IS NOT NULL
                    GROUP BY \(column)
                    """, arguments: [city]
            ).map { ($0[0], $0[1]) }
        }
        for (value, count) in try groups("district") {
            if let key = String.fromDatabaseValue(value) { statistics.districts[key] = count }
        }
        for (value, count) in try groups("size") {
            if let key = Int.fromDatabaseValue(value) { statistics.sizes[key] = count }
        }
        for (value, count) in try groups("association") {
            if let key = String.fromDatabaseValue(value) { statistics.associations[key] = count }
        }
        return statistics
    }

    /// Adds to `statistics` how many families of the city have each spelling and skeleton of `tokens` not counted yet.
    static func countWords(
        _ db: Database, city: String, _ tokens: [NameToken], into statistics: inout CityStatistics
    ) throws {
        let forms = Set(tokens.map(\.form)).filter { statistics.formCount[$0] == nil }
        let skeletons = Set(tokens.flatMap(\.skeletons)).filter { !$0.isEmpty && statistics.skeletonCount[$0] == nil }
        for (kind, words) in [(form, Array(forms)), (skeleton, Array(skeletons))] {
            var start = 0
            while start < words.count {
                let chunk = words[start..<min(words.count, start + 500)].map(nfc)
                start += chunk.count
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT word, count(*) FROM _family_words WHERE city = ? AND kind = ?
                        AND word IN (\(chunk.map { _ in "?" }.joined(separator: ", "))) GROUP BY word
                        """, arguments: StatementArguments([city, kind] as [any DatabaseValueConvertible] + chunk))
                for word in chunk {
                    if kind == form { statistics.formCount[word] = 0 } else { statistics.skeletonCount[word] = 0 }
                }
                for row in rows {
                    let (word, count): (String, Int) = (row[0], row[1])
                    if kind == form {
                        statistics.formCount[word] = count
                    } else {
                        statistics.skeletonCount[word] = count
                    }
                }
            }
        }
    }

    /// The families of the city `features` is blocked with (``CityIndex/candidates(for:)``: same reference, same
    /// address, same phone or one slip away, a name word's skeleton), with their household keys, by id.
    static func blocked(_ db: Database, city: String, _ features: FamilyFeatures) throws -> [String: FamilyFeatures] {
        var found: [String: FamilyFeatures] = [:]
        func collect(_ from: String, _ condition: String, _ values: [String], kind: Int64? = nil) throws {
            guard !values.isEmpty else { return }
            let marks = values.map { _ in "?" }.joined(separator: ", ")
            var arguments: [any DatabaseValueConvertible] = [city]
            if let kind { arguments.append(kind) }
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT k.id, k.reference, k.phone, k.district, k.address, k.size, k.association
                    FROM \(from) \(condition) IN (\(marks))
                    """, arguments: StatementArguments(arguments + values))
            for row in rows {
                found[row[0]] = FamilyFeatures(
                    reference: row[1], phone: (row[2] as String?).map(PhoneKey.init(digits:)), district: row[3],
                    address: row[4], size: row[5], association: row[6])
            }
        }
        let keys = "_family_keys k WHERE k.city = ? AND"
        try collect(keys, "k.reference", features.reference.map { [nfc($0)] } ?? [])
        try collect(keys, "k.address", features.address.map { [nfc($0)] } ?? [])
        if let phone = features.phone {
            // The same number, every number one digit away (the wildcards' neighbours), two digits swapped.
            var numbers: Set<String> = [phone.digits]
            let digits = Array(phone.digits.utf8)
            for index in digits.indices {
                for digit in UInt8(ascii: "0")...UInt8(ascii: "9") {
                    var copy = digits
                    copy[index] = digit
                    numbers.insert(String(decoding: copy, as: UTF8.self))
                }
            }
            numbers.formUnion(phone.transpositions)
            try collect(keys, "k.phone", numbers.sorted())
        }
        try collect(
            "_family_words w JOIN _family_keys k ON k.id = w.id WHERE w.city = ? AND w.kind = ? AND", "w.word",
            Set(features.tokens.flatMap(\.skeletons)).filter { !$0.isEmpty }.map(nfc).sorted(), kind: skeleton)
        return found
    }
}

import FieldBench
import FieldDomain
import Foundation
import SyncCore
import Testing

/// The domain's index of a replica's families (`FamilyKeys`) only saves time: `field family add` finds through it
/// exactly what the scan of every family finds (the same families, scores, bars and evidence), and it follows
/// every change of the families.
@Suite struct FamilyKeysTests {
    /// `families` stored in a new replica (their associations created in their city; one used in two cities is
    /// dropped from the second).
    static func store(_ families: [FamilyCandidate]) throws -> Replica {
        let replica = try domainReplica()
        var cities: [String: String] = [:]
        for family in families {
            if let association = family.association { cities[association] = cities[association] ?? family.city }
        }
        try replica.write { tx in
            for (association, city) in cities {
                _ = try tx.create(
                    "associations", id: association, values: ["name": .text(association), "city": .text(city)])
            }
            for family in families {
                var values = Self.values(family)
                if let association = family.association, cities[association] != family.city {
                    values["association"] = nil
                }
                _ = try tx.create("families", id: family.id, values: values)
            }
        }
        return replica
    }

    /// The labelled set's families, their association ids in ASCII as ids must be ("assoc-fès-2" is "assoc-fes-2").
    static func population(genuine: Int, seed: UInt64, city: String? = nil) -> [FamilyCandidate] {
        LabelledFamilies(genuine: genuine, seed: seed, city: city).families.map { family in
            var family = family
            family.association = family.association?.folding(options: .diacriticInsensitive, locale: nil)
            return family
        }
    }

    /// A family's fields as a record.
    static func values(_ family: FamilyCandidate) -> [String: Value] {
        var values: [String: Value] = [
            "city": .text(family.city), "reference": .text(family.reference), "head_name": .text(family.headName),
        ]
        values["phone"] = family.phone.map(Value.text)
        values["district"] = family.district.map(Value.text)
        values["address"] = family.address.map(Value.text)
        values["household_size"] = family.householdSize.map { .integer(Int64($0)) }
        values["association"] = family.association.map(Value.text)
        return values
    }

    /// Checks `queries` through the index and by the full scan; returns how many duplicates were found.
    @discardableResult
    static func expectSameVerdicts(_ replica: Replica, _ queries: [FamilyCandidate]) throws -> Int {
        var found = 0
        for query in queries {
            let indexed = try FamilyDirectory(replica).likelyDuplicates(query)
            let scanned = try FamilyDirectory(replica.records).likelyDuplicates(query)
            #expect(indexed.map(\.match.family) == scanned.map(\.match.family), "\(query.headName)")
            #expect(indexed.map(\.match.score) == scanned.map(\.match.score), "\(query.headName)")
            #expect(indexed.map(\.match.bar) == scanned.map(\.match.bar), "\(query.headName)")
            #expect(indexed.map(\.match.evidence) == scanned.map(\.match.evidence), "\(query.headName)")
            #expect(indexed.map(\.record) == scanned.map(\.record), "\(query.headName)")
            found += scanned.count
        }
        return found
    }

    /// Arabic and Latin names, phones as typed (some shared, some one slip apart), near-duplicates of every kind,
    /// over several cities: new families and stored ones (checked against the others) find the same.
    @Test(arguments: [21 as UInt64, 22])
    func indexFindsWhatTheFullScanFinds(seed: UInt64) throws {
        let families = Self.population(genuine: 700, seed: seed)
        let known = Array(families.dropLast(80))
        let replica = try Self.store(known)
        var queries = families.suffix(80).map { family -> FamilyCandidate in
            var query = family
            query.id = ""
            return query
        }
        queries += known.prefix(40)
        #expect(try Self.expectSameVerdicts(replica, queries) > 10)
    }

    /// Edits, deletions, merges and new families after the index was built: the next check follows them.
    @Test func indexFollowsEveryChange() throws {
        let families = Self.population(genuine: 400, seed: 23, city: "Fès")
        let known = Array(families.dropLast(40))
        let replica = try Self.store(Array(known.prefix(300)))
        let queries = families.suffix(40).map { family -> FamilyCandidate in
            var query = family
            query.id = ""
            return query
        }
        try Self.expectSameVerdicts(replica, queries)
        try replica.write { tx in
            for family in known.dropFirst(300) {
                _ = try tx.create("families", id: family.id, values: Self.values(family))
            }
            for family in known.prefix(20) { try tx.deleteFamily(family.id) }
            for (index, family) in known.dropFirst(20).prefix(20).enumerated() {
                // Another phone, another name, another size: every key of the family changes.
                try tx.editFamily(
                    family.id,
                    [
                        "phone": .text("06 \(10 + index) 22 33 44"), "head_name": .text(known[100 + index].headName),
                        "household_size": .integer(Int64(index % 9 + 1)), "district": .null,
                    ])
            }
            for family in known.dropFirst(40).prefix(10) {
                try tx.editFamily(family.id, ["merged_into": .text(known[200].id)])
            }
        }
        try Self.expectSameVerdicts(replica, queries + known.dropFirst(20).prefix(40).map { $0 })
    }

    /// Families that left the replica (moved to another city by the admin: their rows are gone, a departure
    /// remains) leave the index too: the next check neither finds them nor counts them.
    @Test func familiesThatLeftAreForgotten() throws {
        let known = Self.population(genuine: 300, seed: 25, city: "Tanger")
        let replica = try Self.store(known)
        let copies = known.prefix(30).map { family -> FamilyCandidate in
            var query = family
            query.id = ""
            return query
        }
        #expect(try Self.expectSameVerdicts(replica, copies) >= 30)
        let left = known.prefix(15).map { RecordRef(collection: "families", id: $0.id) }
        try replica.apply(ChangeBatch(), from: "upstream", progress: PeerProgress(left: left))
        #expect(try replica.record("families", id: known[0].id) == nil)
        #expect(try Self.expectSameVerdicts(replica, copies) >= 15)
    }

    /// A family registered again with a slip in every name word (two letters swapped: another skeleton) and one
    /// digit of the phone wrong is found through the phone's neighbours alone, as the full scan finds it.
    @Test func slipsInTheNameAndThePhone() throws {
        let known = Self.population(genuine: 300, seed: 24, city: "Oujda")
        let replica = try Self.store(known)
        let queries = known.filter { $0.phone != nil }.prefix(60).map { family -> FamilyCandidate in
            var query = family
            query.id = ""
            query.reference = ""
            query.address = nil
            query.headName = family.headName.split(separator: " ").map { word -> String in
                var letters = Array(word)
                if letters.count >= 5 { letters.swapAt(1, 2) }
                return String(letters)
            }.joined(separator: " ")
            var scalars = Array(family.phone!.unicodeScalars)
            if let last = scalars.lastIndex(where: { Self.zero(of: $0) != nil }),
                let zero = Self.zero(of: scalars[last])
            {
                scalars[last] = Unicode.Scalar(zero + (scalars[last].value - zero + 1) % 10)!
            }
            query.phone = String(String.UnicodeScalarView(scalars))
            return query
        }
        #expect(try Self.expectSameVerdicts(replica, queries) > 5)
    }

    /// The zero of a digit's script (ASCII, Arabic-Indic, Eastern Arabic-Indic), nil for anything else.
    static func zero(of scalar: Unicode.Scalar) -> UInt32? {
        [0x30, 0x660, 0x6F0].first { (UInt32($0)...UInt32($0) + 9).contains(scalar.value) }.map(UInt32.init)
    }

    /// A city without families finds nothing, and builds nothing it would not use.
    @Test func emptyCity() throws {
        let replica = try domainReplica()
        let family = FamilyCandidate(id: "", city: "Agadir", headName: "Fatima Zahra El Idrissi", phone: "0612345678")
        #expect(try FamilyDirectory(replica).likelyDuplicates(family).isEmpty)
    }
}

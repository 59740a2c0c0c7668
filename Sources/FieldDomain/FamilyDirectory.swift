import Foundation
public import SyncCore

/// The families a node holds, as a volunteer finds them: by id or reference, by a search, and the likely
/// duplicates of a family about to be registered. Every record carries its `id`.
public struct FamilyDirectory {
    let store: any RecordSource
    /// The replica read, when the directory was given one: ``likelyDuplicates(_:)`` then uses the domain's index
    /// of its families (``FamilyKeys``) instead of reading them all.
    let replica: Replica?

    public init(_ store: any RecordSource) {
        self.store = store
        replica = nil
    }

    /// The families of `replica`.
    public init(_ replica: Replica) {
        store = replica.records
        self.replica = replica
    }

    /// The most families read at once (a city has a few tens of thousands).
    static let maxFamilies = 1_000_000

    /// Families not deleted, merged ones included, in id order.
    func live() throws -> [[String: Value]] {
        try store.records("families", limit: Self.maxFamilies).map {
            $0.values.merging(["id": .text($0.id)]) { a, _ in a }
        }
    }

    /// Families not deleted and not merged into another.
    public func all() throws -> [[String: Value]] {
        try live().filter { $0["merged_into"]?.textValue == nil }
    }

    /// Families whose name, phone or reference contain `text` (accents and Arabic letter variants aside),
    /// sorted by name.
    public func search(_ text: String?) throws -> [[String: Value]] {
        var families = try all()
        if let text, !text.isEmpty {
            let needle = TextMatch.normalize(text)
            let phone = TextMatch.phoneKey(text)
            families = families.filter { family in
                let name = TextMatch.normalize(family["head_name"]?.textValue ?? "")
                let reference = TextMatch.normalize(family["reference"]?.textValue ?? "")
                let familyPhone = family["phone"]?.textValue.flatMap(TextMatch.phoneKey)
                return name.contains(needle) || reference.contains(needle) || (phone != nil && familyPhone == phone)
            }
        }
        return families.sorted {
            TextMatch.normalize($0["head_name"]?.textValue ?? "")
                < TextMatch.normalize($1["head_name"]?.textValue ?? "")
        }
    }

    /// Families of `family.city` likely to be `family` (``FamilyMatcher``), most likely first, with the evidence.
    ///
    /// On a replica, found through the domain's index of its families (``FamilyKeys``, which this may bring up to
    /// date: a write), with the same verdicts as the scan of every family.
    public func likelyDuplicates(_ family: FamilyCandidate) throws -> [(record: [String: Value], match: Match)] {
        if let replica { return try FamilyKeys.likelyDuplicates(family, in: replica) }
        let records = try all()
        var byID: [String: [String: Value]] = [:]
        for record in records { if let id = record["id"]?.textValue { byID[id] = record } }
        let matcher = FamilyMatcher(
            families: records.compactMap(FamilyCandidate.init(record:)).filter { $0.city == family.city })
        return matcher.matches(for: family).compactMap { match in byID[match.family.id].map { ($0, match) } }
    }

    /// What a lookup by id or reference found.
    public enum Lookup {
        case found([String: Value])
        /// Several families answer to it (merged ones aside): none is guessed.
        case ambiguous([[String: Value]])
        case missing
    }

    /// Finds a family by id or reference. A reference is compared as typed first, then with Unicode case
    /// folding (`fès-00003` finds `FÈS-00003`), then as ``TextMatch/normalize(_:)`` compares names
    /// (accents, dashes and spaces aside): the first comparison that finds a family decides; a family
    /// merged into another gives way to one that is not.
    public func find(_ ref: String) throws -> Lookup {
        if let record = try store.record("families", id: ref) {
            return .found(record.merging(["id": .text(ref)]) { a, _ in a })
        }
        let families = try live()
        let comparisons: [(String) -> String] = [
            { $0 }, { $0.folding(options: .caseInsensitive, locale: nil) }, TextMatch.normalize,
        ]
        for key in comparisons {
            let wanted = key(ref)
            let found = families.filter { key($0["reference"]?.textValue ?? "") == wanted }
            let kept = found.filter { $0["merged_into"]?.textValue == nil }
            let candidates = kept.isEmpty ? found : kept
            if candidates.count == 1 { return .found(candidates[0]) }
            if candidates.count > 1 { return .ambiguous(candidates) }
        }
        return .missing
    }
}

import ArgumentParser
import FieldDomain
import Foundation
import SyncCore

/// `field family add` on a device holding many families, against the same command on a device holding few.
struct FamilyAddSuite: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "family-add",
        abstract: "The time of `field family add` on a device holding --families families / holding --baseline.",
        discussion: """
            Two device replicas of one city (Casablanca) are filled through the typed API with families of the
            labelled set (Moroccan names in Arabic and Latin script, phones as typed, districts, addresses,
            household sizes, associations; some registered twice): --families on the large device, the first
            --baseline of them on the small one. Then the real `field` binary (beside field-bench) registers --runs
            new families on each, the two devices alternating: about one in four is a second registration of a
            family both devices hold (a near-duplicate), which must be refused. Every verdict is checked against
            the full scan (FamilyMatcher over every family of the device's city, in this process): the same
            duplicates, or the run fails. The first command on each device is a warm-up, reported apart.
            Figures: median and p90 of the process's wall time (start to exit); ratio = median on the large
            device / median on the small one.
            """)

    @Option(help: "Families on the large device.") var families = 10_000
    @Option(help: "Families on the small device (the baseline).") var baseline = 100
    @Option(help: "New families registered on each device.") var runs = 20
    @Option(help: "Seed of the families.") var seed: UInt64 = 1
    @Option(help: "Keep the two devices in this folder (for profiling) instead of a temporary one.")
    var keep: String?
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard baseline >= 10, families > baseline, runs >= 2 else {
            throw ValidationError("--baseline must be at least 10, --families more than --baseline, --runs at least 2.")
        }
    }

    struct Result: Codable {
        var families: Int
        var baseline: Int
        var runs: Int
        var refused: Int
        var familyAddMsFirst: Double
        var familyAddMsMedian: Double
        var familyAddMsP90: Double
        var baselineMsMedian: Double
        var baselineMsP90: Double
        var familyAddRatio: Double

        enum CodingKeys: String, CodingKey {
            case families, baseline, runs, refused
            case familyAddMsFirst = "family_add_ms_first"
            case familyAddMsMedian = "family_add_ms_median"
            case familyAddMsP90 = "family_add_ms_p90"
            case baselineMsMedian = "baseline_ms_median"
            case baselineMsP90 = "baseline_ms_p90"
            case familyAddRatio = "family_add_ratio"
        }
    }

    func run() throws {
        let field = try BuiltBinary.path("field")
        let folder = try keep ?? makeFolder()
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { if keep == nil { try? FileManager.default.removeItem(atPath: folder) } }
        let population = FamilyAddPopulation(families: families, arriving: runs + 1, seed: seed)
        var large = try FamilyAddDevice.make(
            path: folder + "/large.db", city: population.city, families: population.known)
        var small = try FamilyAddDevice.make(
            path: folder + "/small.db", city: population.city, families: Array(population.known.prefix(baseline)))
        var samples: (large: [Double], small: [Double]) = ([], [])
        var first = 0.0
        var refused = 0
        for (index, family) in population.arriving.enumerated() {
            // Alternated, so that a busy moment of the machine weighs on both devices.
            for onLarge in index % 2 == 0 ? [true, false] : [false, true] {
                let outcome =
                    onLarge ? try Self.checked(family, &large, field) : try Self.checked(family, &small, field)
                if index == 0 {
                    if onLarge { first = outcome.seconds }
                    continue
                }
                if onLarge {
                    samples.large.append(outcome.seconds)
                    if outcome.added == nil { refused += 1 }
                } else {
                    samples.small.append(outcome.seconds)
                }
            }
        }
        let result = Result(
            families: families, baseline: baseline, runs: samples.large.count, refused: refused,
            familyAddMsFirst: first * 1000, familyAddMsMedian: median(samples.large) * 1000,
            familyAddMsP90: Self.p90(samples.large) * 1000, baselineMsMedian: median(samples.small) * 1000,
            baselineMsP90: Self.p90(samples.small) * 1000,
            familyAddRatio: median(samples.large) / median(samples.small))
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        } else {
            print(
                "field family add, \(result.runs) new families each (\(refused) refused as likely duplicates "
                    + "on the large device), verdicts checked against the full scan")
            print(
                "  \(families) families: median \(format1(result.familyAddMsMedian)) ms, "
                    + "p90 \(format1(result.familyAddMsP90)) ms (first command \(format1(result.familyAddMsFirst)) ms)")
            print(
                "  \(baseline) families: median \(format1(result.baselineMsMedian)) ms, "
                    + "p90 \(format1(result.baselineMsP90)) ms")
            print("  ratio \(format2(result.familyAddRatio))")
        }
    }

    /// Registers `family` on `device` and checks the verdict against the full scan's.
    static func checked(
        _ family: FamilyCandidate, _ device: inout FamilyAddDevice, _ field: String
    ) throws -> FamilyAddDevice.Outcome {
        let expected = device.expectedDuplicates(family)
        let outcome = try device.add(family, field: field)
        guard outcome.duplicates == expected, (outcome.added == nil) == !expected.isEmpty else {
            throw SyncError(
                .storage,
                "field family add \(family.reference) on \(device.path) reported [\(outcome.duplicates.joined(separator: ", "))], "
                    + "the full scan [\(expected.joined(separator: ", "))]")
        }
        return outcome
    }

    static func p90(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.9).rounded(.up)) - 1)]
    }

    func makeFolder() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "family-add-\(ProcessInfo.processInfo.processIdentifier)"
        ).path
        try? FileManager.default.removeItem(atPath: folder)
        return folder
    }
}

/// The families of the suite: those both devices hold first (the originals of the near-duplicates among them), and
/// the families registered in the runs.
struct FamilyAddPopulation {
    let city = "Casablanca"
    var known: [FamilyCandidate] = []
    var arriving: [FamilyCandidate] = []

    /// `families` known and `arriving` new, about one in four of these a second registration of a known family.
    init(families: Int, arriving count: Int, seed: UInt64) {
        let labelled = LabelledFamilies(genuine: families + count, seed: seed, city: city)
        let originals = Dictionary(
            labelled.duplicates.keys.map { pair in
                pair.first.hasPrefix("dup-") ? (pair.first, pair.second) : (pair.second, pair.first)
            }, uniquingKeysWith: { a, _ in a })
        let copied = Set(originals.values)
        let byID = Dictionary(uniqueKeysWithValues: labelled.families.map { ($0.id, $0) })
        let copies = originals.keys.sorted().filter { !copied.contains($0) }.prefix(count / 4)
        let heldFirst = Set(copies.compactMap { originals[$0] })
        let fresh = labelled.families.filter { !$0.id.hasPrefix("dup-") && !copied.contains($0.id) }
            .prefix(count - copies.count)
        // Interleaved: a near-duplicate every fourth registration.
        var queue = Array(copies.compactMap { byID[$0] })[...]
        for (index, family) in fresh.enumerated() {
            if index % 3 == 2, let copy = queue.popFirst() { arriving.append(copy) }
            arriving.append(family)
        }
        arriving += queue
        let taken = Set(arriving.map(\.id))
        known = heldFirst.sorted().compactMap { byID[$0] }
        known += labelled.families.filter { !taken.contains($0.id) && !heldFirst.contains($0.id) }
        known = Array(known.prefix(families))
    }
}

import ArgumentParser
import FieldDomain
import Foundation

/// Duplicate detection on a seeded labelled set: `FamilyMatcher` against the old `TextMatch` rules.
struct DuplicateSuite: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "duplicates",
        abstract: "Precision and recall of duplicate detection on labelled families, and the time of one check.",
        discussion: """
            The labelled set (LabelledFamilies): --families genuine families over 8 cities, and 12% more that are
            second registrations of some of them, in equal numbers of each kind (phone retyped, name in the other
            script, spelling variant, typo, a different head of the same household). Reported pairs are those of
            FamilyMatcher.pairs(); the baseline is the old rule (same reference, same TextMatch.phoneKey, or
            TextMatch.similar names within a city) on the same set.
            Check time: --index families of one city indexed once, then --checks new families checked one by one
            with matches(for:); median and p95.
            """)

    @Option(help: "Genuine families in the labelled set.") var families = 2000
    @Option(help: "Seed of the labelled set.") var seed: UInt64 = 1
    @Option(help: "Families indexed for the check time.") var index = 10_000
    @Option(help: "New families checked for the check time.") var checks = 200
    @Flag(help: "Print one JSON object.") var json = false
    @Option(help: "Print the evidence of this many false pairs and missed duplicates.") var explain = 0

    func validate() throws {
        guard families >= 10, index >= 10, checks >= 1 else {
            throw ValidationError("--families and --index must be at least 10, --checks at least 1.")
        }
    }

    struct Timing: Codable {
        var indexedFamilies: Int
        var checks: Int
        var buildSeconds: Double
        var checkMedianMillis: Double
        var checkP95Millis: Double
    }

    struct Result: Codable {
        var seed: UInt64
        var families: Int
        var duplicates: Int
        var matcher: DuplicateEvaluation
        var baseline: DuplicateEvaluation
        var reportSeconds: Double
        var check: Timing
    }

    func run() throws {
        let labelled = LabelledFamilies(genuine: families, seed: seed)
        var reported: [MatchPair] = []
        let reportSeconds = time { reported = FamilyMatcher(families: labelled.families).pairs() }
        let matcher = DuplicateEvaluation(reported: Set(reported.map(\.ids)), labelled: labelled)
        let baseline = DuplicateEvaluation(reported: TextMatchBaseline.pairs(labelled.families), labelled: labelled)
        let result = Result(
            seed: seed, families: labelled.families.count, duplicates: labelled.duplicates.count, matcher: matcher,
            baseline: baseline, reportSeconds: reportSeconds, check: checkTime())
        if explain > 0 { explainMistakes(reported, labelled) }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        } else {
            printHuman(result)
        }
    }

    /// Builds the index of `index` families of one city once, then times `checks` entry checks.
    func checkTime() -> Timing {
        let city = LabelledFamilies(genuine: index + checks, seed: seed &+ 1000, city: "Casablanca")
        let known = Array(city.families.prefix(index))
        let arriving = Array(city.families.dropFirst(index).prefix(checks))
        var matcher: FamilyMatcher?
        let build = time { matcher = FamilyMatcher(families: known) }
        var samples: [Double] = []
        var found = 0
        for family in arriving {
            samples.append(time { found += matcher?.matches(for: family).count ?? 0 })
        }
        samples.sort()
        return Timing(
            indexedFamilies: known.count, checks: samples.count, buildSeconds: build,
            checkMedianMillis: median(samples) * 1000,
            checkP95Millis: samples[min(samples.count - 1, Int(Double(samples.count) * 0.95))] * 1000)
    }

    func printHuman(_ result: Result) {
        print(
            "labelled set: \(families) genuine families and \(result.duplicates) duplicates, seed \(seed) "
                + "(\(result.families) families)")
        func line(_ name: String, _ figures: DuplicateEvaluation) {
            print(
                "\(name.padding(toLength: 26, withPad: " ", startingAt: 0)) precision \(format3(figures.precision))"
                    + "  recall \(format3(figures.recall))  false pairs \(figures.falsePairs)"
                    + "  genuine families flagged \(format1(figures.genuineFlagged * 100))%")
            for kind in DuplicateKind.allCases {
                guard let kindFigures = figures.perKind[kind.rawValue] else { continue }
                print(
                    "    \(kind.rawValue.padding(toLength: 22, withPad: " ", startingAt: 0)) recall "
                        + "\(format3(kindFigures.recall))  (\(kindFigures.found)/\(kindFigures.duplicates))")
            }
        }
        line("FamilyMatcher", result.matcher)
        line("TextMatch (old)", result.baseline)
        print("report: all pairs in \(formatSeconds(result.reportSeconds))")
        print(
            "check one new family against \(result.check.indexedFamilies) (one city): median "
                + "\(format3(result.check.checkMedianMillis)) ms, p95 \(format3(result.check.checkP95Millis)) ms "
                + "over \(result.check.checks) checks (index built once in \(formatSeconds(result.check.buildSeconds)))"
        )
    }

    func explainMistakes(_ reported: [MatchPair], _ labelled: LabelledFamilies) {
        let matcher = FamilyMatcher(families: labelled.families)
        let byID = Dictionary(uniqueKeysWithValues: labelled.families.map { ($0.id, $0) })
        print("false pairs:")
        for pair in reported.filter({ labelled.duplicates[$0.ids] == nil }).prefix(explain) {
            print("  \(pair.first.headName) | \(pair.second.headName)  margin \(format1(pair.margin))")
            for line in pair.explanation { print("      \(line)") }
        }
        print("missed duplicates:")
        let found = Set(reported.map(\.ids))
        let missed = labelled.duplicates.filter { !found.contains($0.key) }.sorted { $0.key.second < $1.key.second }
        for (pair, kind) in missed.prefix(explain) {
            guard let a = byID[pair.first], let b = byID[pair.second] else { continue }
            let match = matcher.compare(a, b)
            print("  [\(kind.rawValue)] \(a.headName) | \(b.headName)  margin \(format1(match.margin))")
            for line in match.explanation { print("      \(line)") }
        }
    }
}

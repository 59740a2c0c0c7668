import Foundation
import SyncCore
import Testing

/// The deterministic simulation: central, two hubs, 3 to 5 devices on files, random work, syncs over a
/// network that partitions, loses, duplicates and replays requests and answers, processes that die
/// mid-batch, wrong clocks, devices restored from another's backup; then healing and a full sync.
///
/// 500 seeds by default; `FIELDSYNC_SEEDS=100000` for a soak; `FIELDSYNC_SEED=n` replays seed n alone.
/// A failing seed prints the shortest trace that fails the same way, and the command that replays it.
@Suite("Simulation")
struct SimulationTests {
    static let environment = ProcessInfo.processInfo.environment
    static let firstSeed: UInt64 = 7_000_000

    static var seeds: [UInt64] {
        if let seed = environment["FIELDSYNC_SEED"].flatMap(UInt64.init) { return [seed] }
        let count = environment["FIELDSYNC_SEEDS"].flatMap(Int.init) ?? 500
        return (0..<UInt64(count)).map { firstSeed + $0 }
    }

    /// The seeds run as this many tests, in parallel.
    static let shares = 8

    @Test(arguments: 0..<shares) func faultsCrashesClocksAndBackupsConverge(share: Int) throws {
        try runSeeds(share: share, adversarial: false)
    }

    /// The same world with a dishonest device and hub sending attacks (foreign ids and references, bad and
    /// extreme values, forged origins and statuses) and the admin moving families between cities: nothing
    /// crashes, honest replicas converge, no city's record carries another city's writer, every attack's
    /// record is refused and kept aside, and no honest sync stays refused after healing.
    @Test(arguments: 0..<shares) func dishonestParticipantsAreRefusedAndHonestOnesConverge(share: Int) throws {
        try runSeeds(share: share, adversarial: true)
    }

    private func runSeeds(share: Int, adversarial: Bool) throws {
        let started = ContinuousClock.now
        var totals = SimRun.Outcome(violations: [])
        var failures = 0
        var events = 0
        let seeds = Self.seeds.enumerated().filter { $0.offset % Self.shares == share }.map(\.element)
        for seed in seeds {
            let scenario = SimScenario(seed: seed, adversarial: adversarial)
            events += scenario.events.count
            let outcome = SimRun.run(scenario)
            totals.faults += outcome.faults
            totals.crashes += outcome.crashes
            totals.restores += outcome.restores
            guard !outcome.violations.isEmpty else { continue }
            failures += 1
            guard failures <= 2 else { continue }  // shrinking takes time: the first two of each share
            let (shrunk, result) = SimRun.shrink(scenario, kind: outcome.kind)
            let trace = shrunk.events.enumerated().map { "  \($0.offset): \($0.element)" }.joined(separator: "\n")
            Issue.record(
                """
                seed \(seed) fails: \(outcome.violations.prefix(3).joined(separator: "; "))
                shortest trace (\(shrunk.events.count) of \(scenario.events.count) events; devices \
                \(shrunk.deviceCities)):
                \(trace)
                which fails with: \(result.violations.prefix(3).joined(separator: "; "))
                replay: FIELDSYNC_SEED=\(seed) FIELDSYNC_SIM_TRACE=1 swift test -c release --filter \
                SimulationTests/\(adversarial ? "dishonestParticipants" : "faultsCrashes")
                """)
        }
        guard !seeds.isEmpty else { return }
        let seconds = (ContinuousClock.now - started) / .seconds(1)
        print(
            "\(adversarial ? "adversarial " : "")simulation share \(share): \(seeds.count) seeds, \(events) events, \(totals.faults) network faults, "
                + "\(totals.crashes) crashes, \(totals.restores) restored backups, \(failures) failing seeds, "
                + String(format: "%.1f s", seconds))
        #expect(failures == 0)
    }
}

package import Foundation

/// Runs many seeds of the simulation and says how it went: what a test of the simulation records.
package enum SimSeeds {
    static let environment = ProcessInfo.processInfo.environment
    /// The first seed of every run (the SQLite central's and the others').
    package static let firstSeed: UInt64 = 7_000_000

    /// `FIELDSYNC_SEED=n` replays seed n alone; `FIELDSYNC_SEEDS=n` runs n seeds (a soak); else `count`.
    package static func seeds(defaultCount count: Int) -> [UInt64] {
        if let seed = environment["FIELDSYNC_SEED"].flatMap(UInt64.init) { return [seed] }
        let count = environment["FIELDSYNC_SEEDS"].flatMap(Int.init) ?? count
        return (0..<UInt64(count)).map { firstSeed + $0 }
    }

    /// What a share of the seeds did.
    package struct Report: Sendable {
        package var seeds = 0
        package var events = 0
        package var totals = SimRun.Outcome(violations: [])
        package var failures = 0
        /// One message per failing seed, for the first `shrunk` failures: the seed, what failed, the
        /// shortest trace that fails the same way, and the command that replays it.
        package var messages: [String] = []
        package var seconds = 0.0

        /// One line: seeds, events, faults met, failures, time.
        package var summary: String {
            "\(seeds) seeds, \(events) events, \(totals.faults) network faults, \(totals.crashes) crashes, "
                + "\(totals.restores) restored backups, "
                + (totals.handOuts == 0
                    ? "" : "\(totals.handOuts) codes handed out (\(totals.refusedHandOuts) refused, reported), ")
                + "\(failures) failing seeds, "
                + String(format: "%.1f s", seconds)
        }
    }

    /// Runs `seeds` with central from `central`; shrinks the first `shrunk` failures. `replay` is the
    /// `--filter` of the test, for the replay command.
    package static func run(
        _ seeds: [UInt64], adversarial: Bool, vouchers: Bool = false,
        central: SimCentralFactory = SimReplicaCentral.factory, replay: String, shrunk: Int = 2
    ) -> Report {
        let started = ContinuousClock.now
        var report = Report()
        for seed in seeds {
            let scenario = SimScenario(seed: seed, adversarial: adversarial, vouchers: vouchers)
            report.seeds += 1
            report.events += scenario.events.count
            let outcome = SimRun.run(scenario, central: central)
            report.totals.faults += outcome.faults
            report.totals.crashes += outcome.crashes
            report.totals.restores += outcome.restores
            report.totals.handOuts += outcome.handOuts
            report.totals.refusedHandOuts += outcome.refusedHandOuts
            guard !outcome.violations.isEmpty else { continue }
            report.failures += 1
            guard report.failures <= shrunk else { continue }  // shrinking takes time
            let (shorter, result) = SimRun.shrink(scenario, kind: outcome.kind, central: central)
            let trace = shorter.events.enumerated().map { "  \($0.offset): \($0.element)" }.joined(separator: "\n")
            report.messages.append(
                """
                seed \(seed) fails: \(outcome.violations.prefix(3).joined(separator: "; "))
                shortest trace (\(shorter.events.count) of \(scenario.events.count) events; devices \
                \(shorter.deviceCities)):
                \(trace)
                which fails with: \(result.violations.prefix(3).joined(separator: "; "))
                replay: FIELDSYNC_SEED=\(seed) FIELDSYNC_SIM_TRACE=1 swift test -c release --skip-build --filter \
                \(replay)
                """)
        }
        report.seconds = (ContinuousClock.now - started) / .seconds(1)
        return report
    }
}

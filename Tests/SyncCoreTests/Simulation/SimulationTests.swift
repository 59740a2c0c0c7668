import FieldSyncSimulation
import Foundation
import Testing

/// The deterministic simulation (Tests/FieldSyncSimulation), central on an SQLite replica: central, two
/// hubs, 3 to 5 devices on files, random work, syncs over a network that partitions, loses, duplicates and
/// replays requests and answers, processes that die mid-batch, wrong clocks, devices restored from
/// another's backup; then healing and a full sync. CentralPostgresTests runs the same with central on
/// PostgreSQL.
///
/// 500 seeds by default; `FIELDSYNC_SEEDS=100000` for a soak; `FIELDSYNC_SEED=n` replays seed n alone.
/// A failing seed prints the shortest trace that fails the same way, and the command that replays it.
@Suite("Simulation")
struct SimulationTests {
    static let seeds = SimSeeds.seeds(defaultCount: 500)

    /// The seeds run as this many tests, in parallel.
    static let shares = 8

    @Test(arguments: 0..<shares) func faultsCrashesClocksAndBackupsConverge(share: Int) throws {
        runSeeds(share: share, adversarial: false)
    }

    /// The same world with a dishonest device and hub sending attacks (foreign ids and references, bad and
    /// extreme values, forged origins and statuses) and the admin moving families between cities: nothing
    /// crashes, honest replicas converge, no city's record carries another city's writer, every attack's
    /// record is refused and kept aside, and no honest sync stays refused after healing.
    @Test(arguments: 0..<shares) func dishonestParticipantsAreRefusedAndHonestOnesConverge(share: Int) throws {
        runSeeds(share: share, adversarial: true)
    }

    private func runSeeds(share: Int, adversarial: Bool) {
        let seeds = Self.seeds.enumerated().filter { $0.offset % Self.shares == share }.map(\.element)
        guard !seeds.isEmpty else { return }
        let report = SimSeeds.run(
            seeds, adversarial: adversarial,
            replay: "SimulationTests/\(adversarial ? "dishonestParticipants" : "faultsCrashes")")
        for message in report.messages { Issue.record(Comment(rawValue: message)) }
        print("\(adversarial ? "adversarial " : "")simulation share \(share): \(report.summary)")
        #expect(report.failures == 0)
    }
}

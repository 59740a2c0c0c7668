import FieldSyncSimulation
import FieldSyncTesting
import Foundation
import Testing

/// The deterministic simulation (Tests/FieldSyncSimulation, SyncCoreTests' `SimulationTests`) with central
/// on PostgreSQL: the same worlds (central, two hubs on SQLite, 3 to 5 devices, a network that partitions,
/// loses, duplicates and replays, processes that die mid-batch, central's included, wrong clocks, restored
/// backups; then healing) and the same checks (every city's replicas equal to central's dump restricted to
/// the city, no acknowledged write lost, node ids distinct), central a ``PostgresStore`` on a database of
/// its own per seed.
///
/// 50 seeds of each world by default (the first of SQLite central's 500); a soak:
/// `FIELDSYNC_SEEDS=n swift test -c release --filter SimulationOnPostgresTests` (the name keeps it out of
/// `--filter SimulationTests`, SQLite central's); `FIELDSYNC_SEED=n` replays seed n alone. A failing seed
/// prints the shortest trace that fails the same way, and the command that replays it.
@Suite("Simulation, central on PostgreSQL", .postgresCluster)
struct SimulationOnPostgresTests {
    static let seeds = SimSeeds.seeds(defaultCount: 50)

    /// The seeds run as this many tests of each world, in parallel (each share holds a pool of 2).
    static let shares = 2

    @Test(arguments: 0..<shares) func faultsCrashesClocksAndBackupsConverge(share: Int) async throws {
        try await runSeeds(share: share, adversarial: false)
    }

    /// With a dishonest device and hub, and the admin moving families between cities (an admin's push to
    /// central): every attack refused and kept aside, honest replicas converge.
    @Test(arguments: 0..<shares) func dishonestParticipantsAreRefusedAndHonestOnesConverge(share: Int) async throws {
        try await runSeeds(share: share, adversarial: true)
    }

    private func runSeeds(share: Int, adversarial: Bool) async throws {
        let seeds = Self.seeds.enumerated().filter { $0.offset % Self.shares == share }.map(\.element)
        guard !seeds.isEmpty else { return }
        let central = SimPostgresCentral.factory(cluster: try currentCluster())
        let replay = "SimulationOnPostgresTests/\(adversarial ? "dishonestParticipants" : "faultsCrashes")"
        // The simulation blocks its thread while central's store works: a thread of its own, never one of
        // the cooperative pool (the pool's connections are made by a task there).
        let report = await withCheckedContinuation { continuation in
            Thread {
                continuation.resume(
                    returning: SimSeeds.run(seeds, adversarial: adversarial, central: central, replay: replay))
            }.start()
        }
        for message in report.messages { Issue.record(Comment(rawValue: message)) }
        print("\(adversarial ? "adversarial " : "")simulation on PostgreSQL, share \(share): \(report.summary)")
        #expect(report.failures == 0)
    }
}

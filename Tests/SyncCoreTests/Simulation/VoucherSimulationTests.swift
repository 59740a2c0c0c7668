import FieldSyncSimulation
import Foundation
import Testing

/// The simulation with recharge codes (decision record 0017): central imports 16 codes, the admin allots
/// them to the hubs, hubs to their devices, devices hand them out to families while partitioned, give them
/// back, crash, are restored from each other's backups, and the admin reclaims a device's codes; then
/// healing and a full sync. After it: no code reached two families at any replica; every hand-out a
/// volunteer made is at central, or was refused, kept aside and explained (its device's id was duplicated
/// by a restored backup, or the admin had taken the code back); every code is at central, handed out or
/// held; and every property of the plain simulation holds.
///
/// 500 seeds by default; `FIELDSYNC_SEEDS=n` for more; `FIELDSYNC_SEED=n` replays seed n alone.
@Suite("Voucher simulation")
struct VoucherSimulationTests {
    static let seeds = SimSeeds.seeds(defaultCount: 500)
    static let shares = 8

    @Test(arguments: 0..<shares) func noCodeReachesTwoFamiliesAndNoCodeIsLost(share: Int) throws {
        let seeds = Self.seeds.enumerated().filter { $0.offset % Self.shares == share }.map(\.element)
        guard !seeds.isEmpty else { return }
        let report = SimSeeds.run(
            seeds, adversarial: false, vouchers: true, replay: "VoucherSimulationTests")
        for message in report.messages { Issue.record(Comment(rawValue: message)) }
        print("voucher simulation share \(share): \(report.summary)")
        #expect(report.failures == 0)
    }
}

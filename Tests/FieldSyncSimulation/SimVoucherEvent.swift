/// The work on recharge codes in a simulated run (decision record 0017). Each makes sense, or does nothing,
/// whatever came before (the shrinker drops events).
package enum SimVoucherEvent: Hashable, Sendable, CustomStringConvertible {
    /// The admin allots `count` codes of central's pool to the city of hub `hub`.
    case allot(hub: Int, count: Int)
    /// The hub of `device`'s city allots `count` of its codes to `device`.
    case hubAllot(device: Int, count: Int)
    /// Volunteer on `device` hands the next code it holds to family[`pick`].
    case handOut(device: Int, pick: Int)
    /// `device` gives `count` unused codes back to its hub.
    case deviceReturn(device: Int, count: Int)
    /// Hub `hub` gives `count` unused codes back to central.
    case hubReturn(hub: Int, count: Int)
    /// The admin takes back every unused code held by `device` (a lost phone).
    case reclaim(device: Int)
    /// `device`'s file is backed up (a copy kept aside).
    case backup(device: Int)
    /// `device` is replaced by its last backup (its view of the codes goes back in time).
    case restoreBackup(device: Int)

    package var description: String {
        switch self {
        case .allot(let hub, let count): "admin allots \(count) codes to hub n\(hub)"
        case .hubAllot(let device, let count): "hub allots \(count) codes to n\(device)"
        case .handOut(let device, let pick): "n\(device) hands a code to family[\(pick)]"
        case .deviceReturn(let device, let count): "n\(device) returns \(count) codes to its hub"
        case .hubReturn(let hub, let count): "hub n\(hub) returns \(count) codes to central"
        case .reclaim(let device): "admin reclaims the codes of n\(device)"
        case .backup(let device): "n\(device) is backed up"
        case .restoreBackup(let device): "n\(device) is restored from its last backup"
        }
    }

    /// A voucher event for a world of `nodes` nodes whose devices are in `cities` (device n is
    /// `cities[n - 3]`).
    static func random(nodes: Int, using random: inout some RandomNumberGenerator) -> SimVoucherEvent {
        let device = Int.random(in: 3..<nodes, using: &random)
        switch Int.random(in: 0..<100, using: &random) {
        case 0..<8:
            return .allot(hub: Int.random(in: 1...2, using: &random), count: Int.random(in: 1...4, using: &random))
        case 8..<33: return .hubAllot(device: device, count: Int.random(in: 1...3, using: &random))
        case 33..<78: return .handOut(device: device, pick: Int.random(in: 0..<1000, using: &random))
        case 78..<90: return .deviceReturn(device: device, count: Int.random(in: 1...2, using: &random))
        case 90..<93: return .hubReturn(hub: Int.random(in: 1...2, using: &random), count: 1)
        case 93..<95: return .reclaim(device: device)
        case 95..<98: return .backup(device: device)
        default: return .restoreBackup(device: device)
        }
    }
}

/// A hand-out a volunteer logged (and so made: the family has the code), to check at the end.
struct SimHandOut {
    var node: Int
    var epoch: Int
    var code: String
    var family: String
    /// The device's feed head after the write: acknowledged once its push position reaches it.
    var sequence: Int64
}

/// What the voucher runs keep to check at the end.
final class SimVoucherLog {
    static let codes = (1...16).map { "VC\(1000 + $0)" }

    var handOuts: [SimHandOut] = []
    /// Devices that were, or were copied into, a restored backup: their node ids were duplicated.
    var duplicated: Set<Int> = []
    /// Codes the admin took back.
    var reclaimed: Set<String> = []
    /// Hand-outs found refused at the end.
    var refusedHandOuts = 0
}

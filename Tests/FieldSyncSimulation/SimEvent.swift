import FieldDomain

/// One step of a simulated run. A run is a list of events drawn from a seed; it replays exactly, and the
/// shrinker removes events from it, so every event must make sense (or do nothing) whatever came before.
package enum SimEvent: Hashable, Sendable, CustomStringConvertible {
    /// A volunteer works on device `node`.
    case write(node: Int, SimWrite)
    /// `node` (a device with its hub, a hub with central) syncs; `faults` seeds the network's faults for
    /// this sync (0: a clean network), `rate` is the chance (percent) of a fault per exchange.
    case sync(node: Int, faults: UInt64, rate: Int)
    /// The link between `node` and its server goes down or comes back (a partition).
    case link(node: Int, up: Bool)
    /// `node`'s wall clock becomes wrong by `skew` (ms; 0: right again).
    case skew(node: Int, millis: Int64)
    /// Real time passes (every node's clock moves).
    case tick(millis: UInt64)
    /// `node`'s process dies at rest and restarts from its database file.
    case crash(node: Int)
    /// Device `node` is replaced by a copy of device `from`'s database file (a restored backup).
    case restore(node: Int, from: Int)
    /// A dishonest participant sends a request (see ``SimAttack``).
    case attack(SimAttack)
    /// The admin moves a family of central's to the other city (racing the volunteers' edits of it).
    case move(pick: Int)
    /// Work on recharge codes (the voucher runs).
    case voucher(SimVoucherEvent)

    package var description: String {
        switch self {
        case .write(let node, let write): "write n\(node) \(write)"
        case .sync(let node, let faults, let rate):
            faults == 0 ? "sync n\(node)" : "sync n\(node) faults \(faults) at \(rate)%"
        case .link(let node, let up): "link n\(node) \(up ? "up" : "down")"
        case .skew(let node, let millis): "skew n\(node) \(millis) ms"
        case .tick(let millis): "tick \(millis) ms"
        case .crash(let node): "crash n\(node)"
        case .restore(let node, let from): "restore n\(node) from a backup of n\(from)"
        case .attack(let attack): "\(attack)"
        case .move(let pick): "admin moves family[\(pick)] to the other city"
        case .voucher(let event): "\(event)"
        }
    }
}

/// A volunteer's action. `pick` chooses among the records the device sees (modulo their count), `tag`
/// makes each written value unique (a lost write cannot hide behind an equal one).
package enum SimWrite: Hashable, Sendable, CustomStringConvertible {
    case addFamily(tag: Int)
    case edit(pick: Int, field: Int, tag: Int)
    case delete(pick: Int)
    case deliver(pick: Int, item: Int)
    case void(pick: Int)

    package var description: String {
        switch self {
        case .addFamily(let tag): "add family #\(tag)"
        case .edit(let pick, let field, let tag): "edit family[\(pick)] \(SimWrite.fields[field]) = #\(tag)"
        case .delete(let pick): "delete family[\(pick)]"
        case .deliver(let pick, let item): "deliver item \(item) to family[\(pick)]"
        case .void(let pick): "void delivery[\(pick)]"
        }
    }

    static let fields = ["phone", "notes", "head_name", "district", "household_size"]
}

import Foundation
import GRDB

extension Replica {
    /// Whether this replica has seen `node` at all: as itself, as a client that synced here (a lease or a
    /// peer entry), in a device status, in the history, or as the writer of any stored record or field.
    ///
    /// A server asks this before it binds a fresh token to a node id (DESIGN.md §8): an id seen here belongs
    /// to a device already, and every pulled page shows ids, so a new token could otherwise write as another
    /// device. Scans the tables (once per new token, not per request). Profile stamps are searched as the
    /// 8 big-endian bytes of the id inside `_stamps`: a 64-bit random id found there by chance only makes a
    /// fresh device take another id.
    public func hasSeen(_ node: NodeID) throws -> Bool {
        if node == nodeID { return true }
        let hex = node.description
        var bytes = [UInt8](repeating: 0, count: 8)
        let raw = UInt64(bitPattern: node.rawValue)
        for index in 0..<8 { bytes[index] = UInt8(truncatingIfNeeded: raw >> (56 - 8 * index)) }
        let blob = Data(bytes)
        do {
            return try read { db in
                if try ReplicaMeta.int(db, .previousNodeID) == node.rawValue { return true }
                let named: [(String, String)] = [
                    ("SELECT 1 FROM _leases WHERE node = ?", hex),
                    ("SELECT 1 FROM _heartbeats WHERE node = ?", hex),
                    ("SELECT 1 FROM _peers WHERE peer = ?", "client:" + hex),
                ]
                for (sql, key) in named where try Int.fetchOne(db, sql: sql, arguments: [key]) != nil {
                    return true
                }
                let history = "SELECT 1 FROM _history WHERE value_node = ?1 OR winner_node = ?1 LIMIT 1"
                if try Int.fetchOne(db, sql: history, arguments: [node.rawValue]) != nil { return true }
                for layout in layouts {
                    let sql =
                        layout.isProfile
                        ? "SELECT 1 FROM \(layout.table) WHERE instr(\"_stamps\", ?) > 0 LIMIT 1"
                        : "SELECT 1 FROM \(layout.table) WHERE \"_node\" = ? LIMIT 1"
                    let argument: any DatabaseValueConvertible = layout.isProfile ? blob : node.rawValue
                    if try Int.fetchOne(db, sql: sql, arguments: [argument]) != nil { return true }
                }
                return false
            }
        } catch {
            throw Self.storageError(error)
        }
    }
}

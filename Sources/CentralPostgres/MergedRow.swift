package import SyncCore

/// A row of a collection as a push's merge reads and writes it, in memory: the store reads every row a
/// push touches in one query per collection, merges there, and writes the rows that changed back in one
/// statement per collection (decision record 0013: a writer holds the feed's lock for as short as it can).
package struct MergedRow: Sendable, Equatable {
    /// Per register: its value (NULL when never set).
    package var values: [Value]
    /// Profiles: per register, its stamp and the sequence of its last change (0: never set). Facts: one
    /// entry, the row's stamp (its sequence is ``sequence``).
    package var hlc: [Int64]
    package var node: [Int64]
    package var registerSequence: [Int64]
    /// Fields this schema does not know, kept and forwarded (the SQLite store's `_extra` format).
    package var extra: [String: ExtraCell]
    /// The row's last change.
    package var sequence: Int64

    /// A profile row with no register set yet.
    package static func emptyProfile(registers: Int, sequence: Int64) -> MergedRow {
        MergedRow(
            values: Array(repeating: .null, count: registers), hlc: Array(repeating: 0, count: registers),
            node: Array(repeating: 0, count: registers), registerSequence: Array(repeating: 0, count: registers),
            extra: [:], sequence: sequence)
    }

    /// A profile register's stamp, or nil when it was never set.
    package func stamp(register: Int) -> Stamp? {
        guard registerSequence[register] != 0, let node = NodeID(rawValue: node[register]) else { return nil }
        return Stamp(hlc: HLCTimestamp(storage: hlc[register]), node: node)
    }

    /// A fact's stamp.
    package var factStamp: Stamp? {
        guard let first = node.first, let node = NodeID(rawValue: first), let hlc = hlc.first else { return nil }
        return Stamp(hlc: HLCTimestamp(storage: hlc), node: node)
    }
}

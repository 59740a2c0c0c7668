import Foundation
import NIOCore
import SyncCore
import Synchronization

/// The facts this instance has read for pulls, ready to send again (decision record 0022).
///
/// A night's pulls fan out: every device of a city pulls the city's same new deliveries. A fact read for
/// one of them is kept here by its sequence, so that the next reader of that page asks PostgreSQL only for
/// each row's sequence and stamp (three numbers) and decodes nothing else. It is safe across instances and
/// without invalidation because a fact's row at a sequence never changes: a fact is written once, and a
/// fact replaced by a lower stamp is written at a new sequence (`insertFact`). An entry is used only when
/// the row read now has the entry's stamp and id; anything else (a database restored from a backup, which
/// reuses sequences) is read again and replaces it.
///
/// Bounded by ``maxEntries``: past it, the older half (by sequence) goes, since readers pull recent changes.
final class FactCache: Sendable {
    struct Entry: Sendable {
        var stamp: Stamp
        var record: RecordChange
        var extras: [(name: String, value: Value, stamp: Stamp?)]
    }

    /// About 0.5–1 KB each for a delivery: tens of MB at most.
    static let maxEntries = 32_768

    private let tables: Mutex<(entries: [[Int64: Entry]], count: Int)>

    /// A stretch of a fact table's feed as a reader of one scope (or of all) saw it: every row past `from`
    /// up to `through`, in sequence order, read while `moves` was `_meta.fact_moves`, `_meta`'s table id and
    /// the server's start time. Rows at a sequence never change; they can only leave it (a fact written
    /// again at a new sequence), and each such move counts in `fact_moves`: while the count is the same,
    /// the stretch is what PostgreSQL would give. A database restored from a backup is another server start
    /// (a physical backup) or other tables (a dump): its stretches are read again.
    struct Known: Sendable {
        var moves: [Int64]
        var from: Int64
        var through: Int64
        var rows: [(sequence: Int64, stamp: Stamp)]
    }

    struct RangeKey: Hashable, Sendable {
        var collection: Int
        var scope: String?
    }

    private let ranges = Mutex<[RangeKey: Known]>([:])

    init(collections: Int) {
        tables = Mutex((Array(repeating: [:], count: collections), 0))
    }

    /// The kept rows of `key` after `after` and up to `upTo`, at most `count`, when a stretch read at
    /// `moves` starts at or before `after`; and the position they reach (the last row's when `count` were
    /// found, else as far as the stretch and `upTo` go). Nil when none covers `after`.
    func known(
        _ key: RangeKey, moves: [Int64], after: Int64, upTo: Int64, count: Int
    )
        -> (rows: [(sequence: Int64, stamp: Stamp)], reached: Int64)?
    {
        ranges.withLock { ranges in
            guard let known = ranges[key], known.moves == moves, known.from <= after, after < known.through else {
                return nil
            }
            let end = min(known.through, upTo)
            guard after < end else { return nil }
            var low = 0
            var high = known.rows.count
            while low < high {
                let middle = (low + high) / 2
                if known.rows[middle].sequence <= after { low = middle + 1 } else { high = middle }
            }
            var rows: [(sequence: Int64, stamp: Stamp)] = []
            var index = low
            while index < known.rows.count, known.rows[index].sequence <= end, rows.count < count {
                rows.append(known.rows[index])
                index += 1
            }
            return (rows, rows.count == count ? rows[rows.count - 1].sequence : end)
        }
    }

    /// Keeps what a reader of `key` read from PostgreSQL at `moves`: every row after `from` up to `through`.
    /// It extends the stretch kept when it starts within it; else, being newer, it replaces it.
    func learn(
        _ key: RangeKey, moves: [Int64], from: Int64, through: Int64, rows: [(sequence: Int64, stamp: Stamp)]
    ) {
        guard from < through else { return }
        ranges.withLock { ranges in
            var known = Known(moves: moves, from: from, through: through, rows: rows)
            if let kept = ranges[key], kept.moves == moves, kept.from <= from, from <= kept.through {
                guard through > kept.through else { return }
                known = kept
                known.rows += rows.drop { $0.sequence <= kept.through }
                known.through = through
            } else if let kept = ranges[key], kept.moves == moves, kept.through >= through {
                return  // an older stretch than the one kept
            }
            if known.rows.count > Self.maxEntries {
                let dropped = known.rows.count - Self.maxEntries / 2
                known.from = known.rows[dropped - 1].sequence
                known.rows.removeFirst(dropped)
            }
            ranges[key] = known
        }
    }

    /// The entries of `collection` kept for `rows` (nil where none, or one of another stamp or id).
    func entries(_ collection: Int, for rows: [ThinRow]) -> [Entry?] {
        tables.withLock { tables in
            let entries = tables.entries[collection]
            return rows.map { row in
                entries[row.sequence].flatMap {
                    $0.stamp == row.stamp && row.hasID($0.record.id) ? $0 : nil
                }
            }
        }
    }

    /// Keeps `entries` of `collection` by sequence.
    func keep(_ collection: Int, _ entries: [(sequence: Int64, entry: Entry)]) {
        guard !entries.isEmpty else { return }
        tables.withLock { tables in
            for (sequence, entry) in entries
            where tables.entries[collection].updateValue(entry, forKey: sequence) == nil {
                tables.count += 1
            }
            guard tables.count > Self.maxEntries else { return }
            // The older half goes: its newest sequence across tables is the median.
            let sequences = tables.entries.flatMap(\.keys).sorted()
            let cut = sequences[sequences.count / 2]
            for index in tables.entries.indices {
                tables.entries[index] = tables.entries[index].filter { $0.key >= cut }
            }
            tables.count = tables.entries.reduce(0) { $0 + $1.count }
        }
    }

    /// How many entries are kept (for tests).
    var count: Int { tables.withLock { $0.count } }
}

/// A fact's row as a pull first reads it: its sequence, stamp and id (its bytes as PostgreSQL sent them:
/// compared with a kept one, never made a `String`; nil for a row of a kept stretch).
struct ThinRow {
    var sequence: Int64
    var stamp: Stamp
    var id: ByteBuffer?

    func hasID(_ other: String) -> Bool {
        guard let id else { return true }
        var other = other
        return other.withUTF8 { utf8 in
            id.withUnsafeReadableBytes { bytes in
                bytes.count == utf8.count
                    && (bytes.isEmpty || memcmp(bytes.baseAddress!, utf8.baseAddress!, bytes.count) == 0)
            }
        }
    }
}

import Foundation
import NIOCore
import SyncCore
import Synchronization

/// What this instance has read of fact tables for pulls, to send again without reading it again
/// (decision record 0022).
///
/// A night's pulls fan out: every device of a city pulls the city's same new deliveries. So the instance
/// keeps:
/// - **facts**, decoded, by collection and sequence. A fact's row at a sequence never changes: a fact is
///   written once, and a fact replaced by a lower stamp is written at a new sequence (`insertFact`). An
///   entry is used only for a row of its stamp (and, read from PostgreSQL, of its id).
/// - **stretches** of each fact table's feed, per reader's scope (``Known``): the rows' sequences and
///   stamps, so that a reader covered by one asks PostgreSQL for nothing of that table.
///
/// Both are bounded: at most ``maxEntries`` facts (the first kept go first) and ``maxStretchRows`` rows of
/// stretches in all (the stretch used longest ago goes first; one stretch keeps its last
/// ``maxRowsPerStretch``). Each lock is held for lookups and small changes only.
final class FactCache: Sendable {
    struct Entry: Sendable {
        var stamp: Stamp
        var record: RecordChange
        var extras: [(name: String, value: Value, stamp: Stamp?)]
    }

    /// About 0.5–1 KB each for a delivery: tens of MB at most.
    static let maxEntries = 32_768
    /// 24 bytes each: 3 MB at most.
    static let maxStretchRows = 131_072
    /// A city's days of deliveries: readers pull recent changes.
    static let maxRowsPerStretch = 16_384

    private struct Facts {
        var entries: [[Int64: Entry]]
        /// In the order kept, for eviction; `next` is the first still counted.
        var order: [(collection: Int, sequence: Int64)] = []
        var next = 0
        var count: Int { order.count - next }
    }

    private let facts: Mutex<Facts>

    /// A stretch of a fact table's feed as a reader of one scope (or of all) saw it: every row past `from`
    /// up to `through`, in sequence order, read while `moves` was `_fact_moves`, `_meta`'s table id and the
    /// server's start time. Rows at a sequence never change; they can only leave it, and PostgreSQL counts
    /// every change or removal of a fact row in `_fact_moves` (a trigger, whoever writes): while the count
    /// is the same, the stretch is what PostgreSQL would give. A database restored from a backup is another
    /// server start (a physical backup) or another `_meta` table (a dump): its stretches are read again.
    struct Known: Sendable {
        var moves: [Int64]
        var from: Int64
        var through: Int64
        var rows: [(sequence: Int64, stamp: Stamp)]
        /// When it was last used (a tick of ``Stretches``), for eviction.
        var used: UInt64 = 0
    }

    struct RangeKey: Hashable, Sendable {
        var collection: Int
        var scope: String?
    }

    private struct Stretches {
        var known: [RangeKey: Known] = [:]
        var rows = 0
        var tick: UInt64 = 0
    }

    private let stretches = Mutex(Stretches())

    init(collections: Int) {
        facts = Mutex(Facts(entries: Array(repeating: [:], count: collections)))
    }

    /// The kept rows of `key` after `after` and up to `upTo`, at most `count`, when a stretch read at
    /// `moves` starts at or before `after`; and the position they reach (the last row's when `count` were
    /// found, else as far as the stretch and `upTo` go). Nil when none covers `after`.
    func known(
        _ key: RangeKey, moves: [Int64], after: Int64, upTo: Int64, count: Int
    )
        -> (rows: [(sequence: Int64, stamp: Stamp)], reached: Int64)?
    {
        stretches.withLock { stretches in
            guard let known = stretches.known[key], known.moves == moves, known.from <= after,
                after < known.through
            else { return nil }
            let end = min(known.through, upTo)
            guard after < end else { return nil }
            stretches.tick += 1
            stretches.known[key]?.used = stretches.tick
            var low = 0
            var high = known.rows.count
            while low < high {
                let middle = (low + high) / 2
                if known.rows[middle].sequence <= after { low = middle + 1 } else { high = middle }
            }
            var rows: [(sequence: Int64, stamp: Stamp)] = []
            rows.reserveCapacity(min(count, known.rows.count - low))
            var index = low
            while index < known.rows.count, known.rows[index].sequence <= end, rows.count < count {
                rows.append(known.rows[index])
                index += 1
            }
            return (rows, rows.count == count ? rows[rows.count - 1].sequence : end)
        }
    }

    /// Keeps what a reader of `key` read from PostgreSQL at `moves`: every row after `from` up to `through`.
    /// It extends the stretch kept when it starts within it; else it replaces it, unless it is older (read
    /// before a move counted in the one kept, or ending before it).
    func learn(
        _ key: RangeKey, moves: [Int64], from: Int64, through: Int64, rows: [(sequence: Int64, stamp: Stamp)]
    ) {
        guard from < through else { return }
        stretches.withLock { stretches in
            stretches.tick += 1
            // The kept stretch's bounds only (no copy of it held: its rows are extended in place).
            let kept = stretches.known[key].map { (moves: $0.moves, from: $0.from, through: $0.through) }
            if let kept, kept.moves == moves, kept.from <= from, from <= kept.through {
                guard through > kept.through else { return }
                let added = rows.drop { $0.sequence <= kept.through }
                stretches.known[key]!.rows.append(contentsOf: added)
                stretches.known[key]!.through = through
                stretches.known[key]!.used = stretches.tick
                stretches.rows += added.count
            } else {
                if let kept {
                    let sameDatabase = kept.moves.dropFirst() == moves.dropFirst()
                    if sameDatabase, kept.moves.first ?? 0 > moves.first ?? 0 { return }
                    if kept.moves == moves, kept.through >= through { return }
                    stretches.rows -= stretches.known[key]?.rows.count ?? 0
                }
                stretches.known[key] = Known(
                    moves: moves, from: from, through: through, rows: rows, used: stretches.tick)
                stretches.rows += rows.count
            }
            if let count = stretches.known[key]?.rows.count, count > Self.maxRowsPerStretch {
                let dropped = count - Self.maxRowsPerStretch / 2
                stretches.known[key]!.from = stretches.known[key]!.rows[dropped - 1].sequence
                stretches.known[key]!.rows.removeFirst(dropped)
                stretches.rows -= dropped
            }
            while stretches.rows > Self.maxStretchRows,
                let oldest = stretches.known.min(by: { $0.value.used < $1.value.used })
            {
                stretches.rows -= oldest.value.rows.count
                stretches.known[oldest.key] = nil
            }
        }
    }

    /// Forgets the stretch of `key` (a row read whole did not match it).
    func forget(_ key: RangeKey) {
        stretches.withLock { stretches in
            if let kept = stretches.known.removeValue(forKey: key) { stretches.rows -= kept.rows.count }
        }
    }

    /// The entries of `collection` kept for `rows` (nil where none, or one of another stamp or id).
    func entries(_ collection: Int, for rows: [ThinRow]) -> [Entry?] {
        facts.withLock { facts in
            let entries = facts.entries[collection]
            return rows.map { row in
                entries[row.sequence].flatMap {
                    $0.stamp == row.stamp && row.hasID($0.record.id) ? $0 : nil
                }
            }
        }
    }

    /// Keeps `entries` of `collection` by sequence; past ``maxEntries``, the first kept go.
    func keep(_ collection: Int, _ entries: [(sequence: Int64, entry: Entry)]) {
        guard !entries.isEmpty else { return }
        facts.withLock { facts in
            for (sequence, entry) in entries
            where facts.entries[collection].updateValue(entry, forKey: sequence) == nil {
                facts.order.append((collection, sequence))
            }
            while facts.count > Self.maxEntries {
                let (collection, sequence) = facts.order[facts.next]
                facts.entries[collection][sequence] = nil
                facts.next += 1
            }
            if facts.next > Self.maxEntries {
                facts.order.removeFirst(facts.next)
                facts.next = 0
            }
        }
    }

    /// Forgets every fact kept (for tests).
    func forgetFacts() {
        facts.withLock { facts in
            facts = Facts(entries: Array(repeating: [:], count: facts.entries.count))
        }
    }

    /// How many facts and rows of stretches are kept (for tests).
    var count: (facts: Int, stretchRows: Int) {
        (facts.withLock { $0.count }, stretches.withLock { $0.rows })
    }
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

/// A position in a replica's change feed.
///
/// A profile row is listed at the sequence of its latest change, but its fields changed at earlier
/// sequences. So a cursor has two parts: `position`, the last row sequence read, and `base`, where the
/// current drain started; the rows after `position` are sent with every field changed after `base`.
/// When a drain ends (`hasMore == false`) both parts move to the feed's head. A field never falls
/// between pages; a row changed again during a drain is sent again (harmless: merging is idempotent).
public struct FeedCursor: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var base: Int64
    public var position: Int64

    /// A cursor at a drained position.
    public init(_ sequence: Int64) {
        self.base = sequence
        self.position = sequence
    }

    public init(base: Int64, position: Int64) {
        self.base = base
        self.position = max(base, position)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let base = try container.decode(Int64.self, forKey: .base)
        let position = try container.decode(Int64.self, forKey: .position)
        guard base >= 0, position >= base, position <= Self.maxPosition else {
            throw DecodingError.dataCorruptedError(
                forKey: .position, in: container,
                debugDescription:
                    "Expected 0 <= base <= position <= 2^53, found base \(base) and position \(position).")
        }
        self.init(base: base, position: position)
    }

    public static let start = FeedCursor(0)

    /// The largest position a cursor may name: 2^53, the largest integer every JSON reader keeps exact. No
    /// replica numbers that many changes; a cursor beyond it comes from a broken or hostile client.
    public static let maxPosition: Int64 = 1 << 53

    /// The cursor moved past changes that are all filtered out (`ranges` of sequences the reader sent us),
    /// so that a feed does not read them to skip them. Only a drained cursor moves.
    ///
    /// Safe when drained: a row whose latest change lies in a skipped range has every change after the
    /// position in such ranges. Mid-drain it would not be: a profile row is listed at its latest change,
    /// so a row whose latest change came from the reader may hold a field another node changed between
    /// `base` and `position`, not sent yet (the row was past the page); skipping the row would lose it.
    public func skipping(_ ranges: SequenceRanges) -> FeedCursor {
        var next = self
        while next.base == next.position, next.position < Self.maxPosition,
            let range = ranges.range(containing: next.position + 1)
        {
            next = FeedCursor(range.upperBound)
        }
        return next
    }
    public static func < (lhs: Self, rhs: Self) -> Bool { (lhs.position, lhs.base) < (rhs.position, rhs.base) }
    /// "120" when drained, "100:120" mid-drain.
    public var description: String { base == position ? String(position) : "\(base):\(position)" }

    public init?(_ text: String) {
        guard text.utf8.allSatisfy({ $0 == UInt8(ascii: ":") || (0x30...0x39).contains($0) }) else { return nil }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count == 1, let value = Int64(parts[0]), value >= 0, value <= Self.maxPosition {
            self.init(value)
        } else if parts.count == 2, let base = Int64(parts[0]), let position = Int64(parts[1]), base >= 0,
            position >= base, position <= Self.maxPosition
        {
            self.init(base: base, position: position)
        } else {
            return nil
        }
    }
}

/// One page of a replica's change feed.
public struct FeedPage: Sendable {
    /// The current value of every field changed after the requested cursor, up to the limit.
    public var batch: ChangeBatch
    /// Where the next page starts. Persist it only once `batch` is applied.
    public var cursor: FeedCursor
    /// Whether changes remain after `cursor`.
    public var hasMore: Bool
    /// Records that left the reader's scope within this page (a family moved to another city): the reader
    /// keeps no copy of them (see `Replica.departures`). Only a scoped feed names them.
    public var left: [RecordRef] = []
    /// Of those, the ones that left because this node's server refused them, and why: the reader sets
    /// its copy aside with the reason (the device that made the record learns why).
    public var refused: [Refusal] = []

    /// The most departures one page names (an admin who moves a whole association moves thousands).
    public static let maxLeft = 5000

    public init(
        batch: ChangeBatch, cursor: FeedCursor, hasMore: Bool, left: [RecordRef] = [], refused: [Refusal] = []
    ) {
        self.batch = batch
        self.cursor = cursor
        self.hasMore = hasMore
        self.left = left
        self.refused = refused
    }
}

/// A record named by its collection and id.
public struct RecordRef: Sendable, Hashable {
    public var collection: String
    public var id: String

    /// Record ids: 1 to 64 printable ASCII characters, no spaces.
    public static func isValidID(_ id: String) -> Bool {
        let bytes = id.utf8
        return !bytes.isEmpty && bytes.count <= 64 && bytes.allSatisfy { $0 > 32 && $0 < 127 }
    }

    public init(collection: String, id: String) {
        self.collection = collection
        self.id = id
    }
}

/// Which changes a feed page carries.
public struct FeedFilter: Sendable {
    /// Only records whose scope field equals this value (a city); collections without a scope pass.
    public var scope: String?
    /// Leave out changes stamped by these nodes (they already have them: no echo).
    public var excludingOrigins: Set<NodeID>
    /// Leave out changes written here at these local sequences (they came from the reader: no echo).
    public var excludingSequences: SequenceRanges
    /// Leave out the changes that came from this peer (its echo ranges, read in the feed's own snapshot).
    public var excludingEchoOf: String?

    public init(
        scope: String? = nil, excludingOrigins: Set<NodeID> = [], excludingSequences: SequenceRanges = .init(),
        excludingEchoOf peer: String? = nil
    ) {
        self.scope = scope
        self.excludingOrigins = excludingOrigins
        self.excludingSequences = excludingSequences
        self.excludingEchoOf = peer
    }

    package func excludes(_ stamp: Stamp, sequence: Int64) -> Bool {
        excludingOrigins.contains(stamp.node) || excludingSequences.contains(sequence)
    }

    public static let all = FeedFilter()
}

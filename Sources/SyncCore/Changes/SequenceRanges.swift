/// Sorted, disjoint ranges of a replica's local sequence numbers: the changes that came from one peer.
///
/// A feed filtered with them leaves out what a peer sent us, so nothing is echoed back to it.
public struct SequenceRanges: Sendable, Hashable {
    public private(set) var ranges: [ClosedRange<Int64>]

    public init(_ ranges: [ClosedRange<Int64>] = []) {
        self.ranges = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) { insert(range) }
    }

    public var isEmpty: Bool { ranges.isEmpty }

    /// Adds a range, merging it with the ranges it touches.
    public mutating func insert(_ range: ClosedRange<Int64>) {
        var low = range.lowerBound
        var high = range.upperBound
        var kept: [ClosedRange<Int64>] = []
        kept.reserveCapacity(ranges.count + 1)
        var placed = false
        for existing in ranges {
            if existing.upperBound &+ 1 < low {
                kept.append(existing)
            } else if high &+ 1 < existing.lowerBound {
                if !placed {
                    kept.append(low...high)
                    placed = true
                }
                kept.append(existing)
            } else {
                low = min(low, existing.lowerBound)
                high = max(high, existing.upperBound)
            }
        }
        if !placed { kept.append(low...high) }
        ranges = kept
    }

    /// Whether `sequence` lies in one of the ranges: a binary search.
    public func contains(_ sequence: Int64) -> Bool {
        range(containing: sequence) != nil
    }

    /// The range that holds `sequence`, if any.
    public func range(containing sequence: Int64) -> ClosedRange<Int64>? {
        var (lower, upper) = (0, ranges.count)
        while lower < upper {
            let middle = (lower + upper) / 2
            if ranges[middle].upperBound < sequence {
                lower = middle + 1
            } else {
                upper = middle
            }
        }
        return lower < ranges.count && ranges[lower].contains(sequence) ? ranges[lower] : nil
    }
}

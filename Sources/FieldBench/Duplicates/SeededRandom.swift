package import SyncCore

/// SyncCore's SplitMix64: the same seed gives the same families on every machine and every run.
package typealias SeededRandom = SplitMix64

extension SplitMix64 {
    /// True with probability `p`.
    package mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &self) < p }

    /// An element drawn with probability proportional to `weight`.
    package mutating func weighted<T>(_ items: [T], weight: (T) -> Int) -> T {
        let total = items.reduce(0) { $0 + weight($1) }
        var pick = Int.random(in: 0..<total, using: &self)
        for item in items {
            pick -= weight(item)
            if pick < 0 { return item }
        }
        return items[items.count - 1]
    }

    package mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &self)] }
}

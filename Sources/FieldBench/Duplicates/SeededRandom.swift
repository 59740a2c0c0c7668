/// SplitMix64: the same seed gives the same families on every machine and every run.
package struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    package init(seed: UInt64) { state = seed }

    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

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

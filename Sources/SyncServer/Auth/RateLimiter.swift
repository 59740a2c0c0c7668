import Foundation

/// A token bucket per key (a token id, a client address): floods from one key get 429 while others go on.
///
/// A bucket holds up to `burst` units and refills at `perSecond`. `spend` may take it below zero, down to
/// `-burst`: a cost known only afterwards (the bytes a body decompressed to) is still charged, as a debt
/// to refill before the key gets in again. Full buckets are forgotten when many keys pile up.
final class RateLimiter: @unchecked Sendable {
    // @unchecked: `buckets` and `pruneAt` are only touched under `lock`.
    private let lock = NSLock()
    private var buckets: [String: (level: Double, at: Double)] = [:]
    private var pruneAt = 1024
    let perSecond: Double
    let burst: Double

    init(perSecond: Double, burst: Double) {
        self.perSecond = perSecond
        self.burst = burst
    }

    /// Takes one unit from `key`'s bucket; returns nil when allowed, or the seconds to wait.
    func take(_ key: String, now: Double = ProcessInfo.processInfo.systemUptime) -> Double? {
        lock.withLock {
            var level = refilled(key, now)
            defer { store(key, level, now) }
            if level >= 1 {
                level -= 1
                return nil
            }
            return (1 - level) / perSecond
        }
    }

    /// The seconds until `key`'s bucket holds `need` units; nil when it holds them now. Takes nothing.
    func wait(_ key: String, need: Double = 1, now: Double = ProcessInfo.processInfo.systemUptime) -> Double? {
        lock.withLock {
            let level = refilled(key, now)
            return level >= need ? nil : (need - level) / perSecond
        }
    }

    /// Takes `cost` units from `key`'s bucket, below zero if need be (down to `-burst`).
    func spend(_ key: String, _ cost: Double, now: Double = ProcessInfo.processInfo.systemUptime) {
        lock.withLock { store(key, max(-burst, refilled(key, now) - cost), now) }
    }

    private func refilled(_ key: String, _ now: Double) -> Double {
        guard let bucket = buckets[key] else { return burst }
        return min(burst, bucket.level + max(0, now - bucket.at) * perSecond)
    }

    private func store(_ key: String, _ level: Double, _ now: Double) {
        buckets[key] = (level, now)
        guard buckets.count > pruneAt else { return }
        buckets = buckets.filter { $0.value.level + (now - $0.value.at) * perSecond < burst }
        pruneAt = max(1024, 2 * buckets.count)
    }
}

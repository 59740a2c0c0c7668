import Foundation

/// A token bucket per token id: floods from one token get 429 while other tokens go on.
final class RateLimiter: @unchecked Sendable {
    // @unchecked: `buckets` is only touched under `lock`.
    private let lock = NSLock()
    private var buckets: [String: (tokens: Double, at: Double)] = [:]
    let perSecond: Double
    let burst: Double

    init(perSecond: Double, burst: Double) {
        self.perSecond = perSecond
        self.burst = burst
    }

    /// Takes one request from `key`'s bucket; returns nil when allowed, or the seconds to wait.
    func take(_ key: String, now: Double = ProcessInfo.processInfo.systemUptime) -> Double? {
        lock.withLock {
            var bucket = buckets[key] ?? (burst, now)
            bucket.tokens = min(burst, bucket.tokens + (now - bucket.at) * perSecond)
            bucket.at = now
            defer { buckets[key] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            return (1 - bucket.tokens) / perSecond
        }
    }
}

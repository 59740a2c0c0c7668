#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A source of wall-clock time in Unix milliseconds. Inject a fixed one in tests.
public protocol PhysicalClock: Sendable {
    func nowMillis() -> UInt64
}

/// The operating system's real-time clock.
public struct SystemClock: PhysicalClock {
    public init() {}

    public func nowMillis() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        guard spec.tv_sec >= 0 else { return 0 }
        return UInt64(spec.tv_sec) * 1000 + UInt64(spec.tv_nsec) / 1_000_000
    }
}

extension PhysicalClock where Self == SystemClock {
    public static var system: SystemClock { SystemClock() }
}

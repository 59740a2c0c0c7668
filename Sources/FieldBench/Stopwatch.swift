#if canImport(Glibc)
    import Glibc
#endif

/// Monotonic wall time in seconds.
func monotonicSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

/// Times `body` once, in seconds.
func time(_ body: () throws -> Void) rethrows -> Double {
    let start = monotonicSeconds()
    try body()
    return monotonicSeconds() - start
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1
        ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

/// "12.3 ms", "1.52 s".
func formatSeconds(_ seconds: Double) -> String {
    seconds < 1 ? "\(String(format3(seconds * 1000))) ms" : "\(format3(seconds)) s"
}

func format3(_ value: Double) -> String {
    let rounded = (value * 1000).rounded() / 1000
    return String(rounded)
}

func format2(_ value: Double) -> String {
    let rounded = (value * 100).rounded() / 100
    return String(rounded)
}

func format1(_ value: Double) -> String {
    String((value * 10).rounded() / 10)
}

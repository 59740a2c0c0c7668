/// A hybrid logical clock reading: 48 bits of Unix milliseconds and a 16-bit counter.
///
/// The raw value orders like the pair `(millis, counter)`, so stamps compare as plain integers.
/// Milliseconds are kept below 2^47 so that the raw value fits a positive SQLite `INTEGER`
/// (that is the year 6429, well past any device clock we accept).
public struct HLCTimestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The largest millisecond value a timestamp can carry.
    public static let maxMillis: UInt64 = (1 << 47) - 1
    /// The zero timestamp, older than every real one.
    public static let zero = HLCTimestamp(rawValue: 0)

    public let rawValue: UInt64

    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    public init(millis: UInt64, counter: UInt16) {
        precondition(millis <= Self.maxMillis, "HLC milliseconds out of range")
        self.rawValue = millis << 16 | UInt64(counter)
    }

    /// The timestamp as stored in SQLite.
    public init(storage: Int64) {
        self.rawValue = UInt64(bitPattern: storage)
    }

    public var storage: Int64 { Int64(bitPattern: rawValue) }
    public var millis: UInt64 { rawValue >> 16 }
    public var counter: UInt16 { UInt16(truncatingIfNeeded: rawValue) }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    /// `2026-11-24T21:30:00.123Z+5`: the wall time and, when non-zero, the counter.
    public var description: String {
        let text = ISO8601.format(millis: millis)
        return counter == 0 ? text : "\(text)+\(counter)"
    }
}

/// Minimal UTC ISO 8601 formatting and parsing of Unix milliseconds, without Foundation formatters.
package enum ISO8601 {
    package static func format(millis: UInt64) -> String {
        let seconds = Int64(millis / 1000)
        let ms = Int(millis % 1000)
        var days = seconds / 86_400
        let rest = Int(seconds % 86_400)
        // Civil-from-days (Howard Hinnant).
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let doe = days - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        var year = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        if month <= 2 { year += 1 }
        func pad(_ value: Int64, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(Int64(rest / 3600), 2)):"
            + "\(pad(Int64(rest / 60 % 60), 2)):\(pad(Int64(rest % 60), 2)).\(pad(Int64(ms), 3))Z"
    }
}

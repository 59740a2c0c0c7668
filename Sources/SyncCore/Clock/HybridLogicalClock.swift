/// A hybrid logical clock (Kulkarni et al., 2014) as a pure value: the caller passes the physical time.
///
/// - `tick(now:)` stamps a local write: strictly greater than every stamp this clock issued or observed,
///   and equal to the physical time when the physical time is ahead.
/// - `observe(_:now:)` takes in a remote stamp so that later local stamps order after it, unless the
///   remote stamp is more than `maxDrift` (or the bound given) ahead of the physical time and of the
///   millisecond of every stamp this clock has seen: then it throws `.clockDrift` and the clock does not
///   move. (A stamp within the clock's millisecond cannot move it further: its sender ticked after
///   seeing what we saw; its clock is not wrong.)
///
/// The counter carries into the millisecond when it overflows, so the clock never stalls or wraps.
public struct HybridLogicalClock: Sendable, Equatable {
    /// Five minutes, the default bound on how far ahead of us a remote stamp may be.
    public static let defaultMaxDriftMillis: UInt64 = 5 * 60 * 1000

    /// The greatest timestamp issued or observed.
    public private(set) var last: HLCTimestamp
    /// How far ahead of the physical clock a remote stamp may be before it is refused.
    public var maxDriftMillis: UInt64

    public init(last: HLCTimestamp = .zero, maxDriftMillis: UInt64 = Self.defaultMaxDriftMillis) {
        self.last = last
        self.maxDriftMillis = maxDriftMillis
    }

    /// Issues the timestamp of a local event.
    public mutating func tick(now: UInt64) -> HLCTimestamp {
        let physical = min(now, HLCTimestamp.maxMillis)
        if last.millis >= HLCTimestamp.maxMillis {
            // The end of time (year 6429, or a damaged clock value): saturate rather than wrap.
            last = HLCTimestamp(millis: HLCTimestamp.maxMillis, counter: last.counter == .max ? .max : last.counter + 1)
        } else if physical > last.millis {
            last = HLCTimestamp(millis: physical, counter: 0)
        } else if last.counter == UInt16.max {
            last = HLCTimestamp(millis: last.millis + 1, counter: 0)
        } else {
            last = HLCTimestamp(millis: last.millis, counter: last.counter + 1)
        }
        return last
    }

    /// Checks that a remote timestamp is within `boundMillis` (default: the drift bound) of `now`, or not
    /// ahead of what this clock has seen, without moving the clock.
    public func check(_ remote: HLCTimestamp, now: UInt64, boundMillis: UInt64? = nil) throws(SyncError) {
        guard remote.millis <= HLCTimestamp.maxMillis else {
            throw SyncError(
                .clockDrift, "A change carries an impossible clock reading (\(remote.rawValue)).",
                clockOffsetMillis: .max)
        }
        let bound = boundMillis ?? maxDriftMillis
        // Not past this clock's millisecond: a stamp its sender ticked after seeing what we saw.
        guard remote.millis > last.millis, remote.millis > now, remote.millis - now > bound else { return }
        let ahead = remote.millis - now
        throw SyncError(
            .clockDrift,
            "A change is stamped \(TimeSpan.describe(millis: ahead)) ahead of this node's clock "
                + "(limit \(TimeSpan.describe(millis: bound))). The sender's clock is wrong: "
                + "it must correct its clock and repair its pending stamps before syncing.",
            clockOffsetMillis: Int64(clamping: ahead)
        )
    }

    /// Takes in a remote timestamp: later local stamps order after it.
    public mutating func observe(_ remote: HLCTimestamp, now: UInt64, boundMillis: UInt64? = nil) throws(SyncError) {
        try check(remote, now: now, boundMillis: boundMillis)
        if remote > last { last = remote }
    }
}

package enum TimeSpan {
    /// "9 h 12 min", "3 days 4 h", "250 ms": a span a person can read.
    package static func describe(millis: UInt64) -> String {
        if millis < 1000 { return "\(millis) ms" }
        let seconds = millis / 1000
        if seconds < 60 { return "\(seconds) s" }
        let minutes = seconds / 60
        if minutes < 60 { return "\(minutes) min \(seconds % 60) s" }
        let hours = minutes / 60
        if hours < 48 { return "\(hours) h \(minutes % 60) min" }
        let days = hours / 24
        return "\(days) days \(hours % 24) h"
    }
}

/// The refusal of a push whose stamps are too far ahead, worded for who can act on it.
extension SyncError {
    /// A stamp check's refusal with what it found off, and a message that says what the stamp's node can do.
    package static func drift(_ error: SyncError, _ cause: ClockDriftCause, stamp: Stamp, bound: UInt64) -> SyncError {
        var error = error
        error.clockDriftCause = cause
        // An impossible reading (past the 48 bits of a stamp) keeps its own message.
        guard let ahead = error.clockOffsetMillis, ahead != .max else { return error }
        let span =
            "\(TimeSpan.describe(millis: UInt64(ahead))) ahead of this node's clock (limit "
            + "\(TimeSpan.describe(millis: bound)))"
        error.message =
            cause == .relayedStampsAhead
            ? "A change stamped by node \(stamp.node), relayed, is \(span): that node's clock, or a server's on "
                + "its way, is wrong, and the node relaying it cannot repair another node's stamps. Nothing was "
                + "applied."
            : "A change stamped by node \(stamp.node) is \(span): it was made while that node's clock was ahead. "
                + "That node moves its pending stamps by offset_ms and sends them again. Nothing was applied."
        return error
    }
}

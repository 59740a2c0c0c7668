/// What a `clock-drift` refusal found off, as the receiver decided it: the sender's clock, or the stamps
/// it pushed. Sent as `cause` in the problem document, so that a client knows whether to correct its
/// clock or only its pending stamps (docs/protocol.md, section 13; decision record 0010).
///
/// Extensible, like ``SyncError/Code``: a client treats a value it does not know as no cause at all.
public struct ClockDriftCause: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    /// The request's clock is more than the drift bound ahead of the receiver's. `offset_ms` (negative) is
    /// what the sender adds to its clock correction and to the pending stamps that clock made.
    public static let clockAhead = ClockDriftCause("clock-ahead")
    /// The request's clock is more than the drift bound behind the receiver's. `offset_ms` (positive) is
    /// what the sender adds to its clock correction and to the pending stamps that clock made.
    public static let clockBehind = ClockDriftCause("clock-behind")
    /// The request's clock is within the bound, but a stamp of the sender's own is more than the bound
    /// ahead: made while its clock was ahead, since set right. The sender moves its pending stamps by
    /// `offset_ms` and leaves its clock as it is.
    public static let stampsAhead = ClockDriftCause("stamps-ahead")
    /// A stamp the sender relays (another node's) is more than twice the bound ahead: the sender cannot
    /// repair it (decision record 0006).
    public static let relayedStampsAhead = ClockDriftCause("relayed-stamps-ahead")
}

/// A push applied while its body is still being decoded, for a store that can: the decoder hands on each
/// run of records as it reads it, and the store merges it in an open transaction on a thread of its own,
/// while the decoder reads the next run.
/// Nothing commits before ``finish(lease:pruneEchoBelow:records:)``, which the service calls only once
/// the whole request decoded and passed every check a push passes; ``abort()`` rolls it all back.
///
/// A stream that fails (a bad record, a stored record out of scope, a stamp too far ahead, a duplicated
/// node) rolls back and `finish` answers nil: the service then applies the decoded push with
/// ``SyncStore/apply(_:)``, which gives the outcome and the error of a push that never streamed. A stream
/// with refused records fails too (the order of its refusals would differ). Decision record 0012 has the
/// A/B that keeps it.
public protocol PushStream: Sendable {
    /// Hands on a run of records, decoded and resolved, in the batch's order.
    func offer(_ records: CollectionChanges)

    /// Moves the lease, prunes the echo and commits, as ``SyncStore/apply(_:)`` would at its end; the
    /// report, or nil when the stream failed and rolled back. `records`: how many the decoded push
    /// carries (the runs handed on must add up to it).
    func finish(lease: LeaseMove?, pruneEchoBelow: Int64?, records: Int) async -> ApplyReport?

    /// Rolls everything back; a no-op once finished. Does not wait for the rollback.
    func abort()
}

extension SyncStore {
    /// No streaming: every push is applied whole.
    public func beginPush(client: NodeID, scope: String?, role: Principal.Role?, now: Int64) -> (any PushStream)? {
        nil
    }

    /// A stream for a client whose role is not said (taken for a device's by the rules).
    public func beginPush(client: NodeID, scope: String?, now: Int64) -> (any PushStream)? {
        beginPush(client: client, scope: scope, role: nil, now: now)
    }
}

/// A chain of random values, one link per push, that tells two copies of one node apart.
///
/// The client keeps its current lease with each server and, before a push, persists a new one and
/// sends both. The server keeps the current lease of each node and its last move: a request whose
/// `previous` is neither the current lease nor (with the same `next`) the last move comes from another
/// copy of the node (a device restored from a backup), refused with `duplicate-node`.
///
/// A client may send a push while the one before it is unanswered (a window of two): that request's
/// `previous` is the earlier one's `next`, and `after` is the earlier one's `previous`. A server whose
/// current lease is still `after` has not applied the earlier request (it is still on its way, or it
/// was lost): it refuses this one with `out-of-order`, applying and recording nothing, and the client
/// sends it again once the earlier one is answered.
public struct Lease: Sendable, Equatable {
    /// The lease the client holds; nil before its first lease with this server.
    public var previous: UInt64?
    /// The lease the client moves to with this request; nil when it does not move.
    public var next: UInt64?
    /// The lease held before `previous`, sent while the request moving from it to `previous` is
    /// unanswered; nil otherwise.
    public var after: UInt64?
    public init(previous: UInt64?, next: UInt64?, after: UInt64? = nil) {
        self.previous = previous
        self.next = next
        self.after = after
    }
}

/// What a server decided about a client's lease.
public enum LeaseCheck: Sendable, Equatable {
    /// The lease is this node's: the request goes on.
    case accepted
    /// Two copies of the node hold diverging leases (now, or seen before): refuse the request.
    case duplicate
    /// The request follows one the server has not applied (``Lease/after`` is the current
    /// lease): refuse it, recording nothing; the client sends it again after that one.
    case outOfOrder
}

/// A client's lease move that a server makes in the transaction applying the client's push.
public struct LeaseMove: Sendable {
    public var lease: Lease
    public var node: NodeID
    /// Server time (Unix ms), recorded when two copies are found.
    public var now: Int64

    public init(_ lease: Lease, node: NodeID, now: Int64) {
        self.lease = lease
        self.node = node
        self.now = now
    }
}

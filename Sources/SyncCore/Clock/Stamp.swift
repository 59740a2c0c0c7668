/// The version of one write: the writer's clock reading and its node id.
///
/// Stamps are totally ordered: by clock, then by node. A write wins a register when its stamp is
/// strictly greater; two different writers never produce equal stamps.
public struct Stamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var hlc: HLCTimestamp
    public var node: NodeID

    public init(hlc: HLCTimestamp, node: NodeID) {
        self.hlc = hlc
        self.node = node
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.hlc, lhs.node) < (rhs.hlc, rhs.node)
    }

    public var description: String { "\(hlc)@\(node)" }
}

/// What a server holds of a client node's lease, and what it does with a move: the decision of
/// ``Lease``'s rules as a value (pure), for every store to perform the same way.
package struct LeaseBook: Sendable, Equatable {
    /// The current lease (nil: the node's first request moved none).
    package var lease: UInt64?
    /// The node's last moves, oldest first, comma-separated (`previous:next` in hex, `-` for none).
    package var moves: String
    /// Whether two copies of the node were found.
    package var duplicate: Bool

    package init(lease: UInt64?, moves: String, duplicate: Bool) {
        self.lease = lease
        self.moves = moves
        self.duplicate = duplicate
    }

    /// How many of a node's last lease moves a server remembers (retries and late copies of requests).
    package static let recentMoves = 16

    /// What to write after a decision.
    package enum Write: Sendable, Equatable {
        case none
        /// A node seen for the first time.
        case insert(lease: UInt64?, moves: String)
        case update(lease: UInt64, moves: String)
        /// Two copies of the node: remembered, with the time.
        case markDuplicate
    }

    /// The verdict on `lease` for a node whose book is `stored` (nil: never seen), and what to write.
    ///
    /// Accepted: a node seen for the first time; `previous` equal to the stored lease (moving to `next`
    /// when given); or a move the node already made, among its last ``recentMoves``. A request sent behind
    /// another still unanswered, whose `after` is the stored lease, is out of order (nothing written).
    /// Anything else proves two copies of the node.
    package static func decide(_ lease: Lease, stored: LeaseBook?) -> (LeaseCheck, Write) {
        guard let stored else {
            // A request sent behind another follows a lease this server should know.
            if lease.after != nil { return (.outOfOrder, .none) }
            return (.accepted, .insert(lease: lease.next ?? lease.previous, moves: moves("", adding: lease)))
        }
        if stored.duplicate { return (.duplicate, .none) }
        if lease.previous == stored.lease {
            if let next = lease.next, next != stored.lease {
                return (.accepted, .update(lease: next, moves: moves(stored.moves, adding: lease)))
            }
            return (.accepted, .none)
        }
        if lease.next != nil, stored.moves.split(separator: ",").contains(Substring(move(lease))) {
            return (.accepted, .none)
        }
        if let after = lease.after, after == stored.lease { return (.outOfOrder, .none) }
        return (.duplicate, .markDuplicate)
    }

    private static func move(_ lease: Lease) -> String {
        "\(lease.previous.map { String($0, radix: 16) } ?? "-"):\(lease.next.map { String($0, radix: 16) } ?? "-")"
    }

    /// The list of moves with `lease` added and only the last ``recentMoves`` kept.
    private static func moves(_ list: String, adding lease: Lease) -> String {
        guard lease.next != nil else { return list }
        var kept = Substring(list)
        var count = list.isEmpty ? 0 : list.utf8.reduce(1) { $1 == UInt8(ascii: ",") ? $0 + 1 : $0 }
        while count > recentMoves - 1, let comma = kept.firstIndex(of: ",") {
            kept = kept[kept.index(after: comma)...]
            count -= 1
        }
        if count > recentMoves - 1 { kept = "" }  // one move and none to keep
        return kept.isEmpty ? move(lease) : kept + "," + move(lease)
    }
}

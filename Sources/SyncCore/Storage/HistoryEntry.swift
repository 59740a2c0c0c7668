/// A value displaced by a newer write, as kept in `_history`.
public struct HistoryEntry: Sendable, Hashable {
    public var collection: String
    public var recordID: String
    public var field: String
    public var value: Value
    /// The displaced write.
    public var stamp: Stamp
    /// The write that won over it.
    public var winner: Stamp

    public init(collection: String, recordID: String, field: String, value: Value, stamp: Stamp, winner: Stamp) {
        self.collection = collection
        self.recordID = recordID
        self.field = field
        self.value = value
        self.stamp = stamp
        self.winner = winner
    }

    /// Whether two different nodes wrote the register: a conflict the admin should see.
    public var isConflict: Bool { stamp.node != winner.node }
}

/// What applying a batch did.
public struct ApplyReport: Sendable, Equatable {
    /// Record changes in the batch.
    public var records: Int
    /// Values that lost to a newer write here and were kept in history.
    public var conflicts: Int
    /// The feed's head after the apply.
    public var cursor: FeedCursor
    /// Records not applied, and why (each also kept in `_refused`).
    public var refused: [Refusal] = []

    public init(records: Int, conflicts: Int, cursor: FeedCursor, refused: [Refusal] = []) {
        self.records = records
        self.conflicts = conflicts
        self.cursor = cursor
        self.refused = refused
    }
}

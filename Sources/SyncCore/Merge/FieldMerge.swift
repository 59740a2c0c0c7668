/// What to do with an incoming register value.
public enum MergeDecision: Sendable, Equatable {
    /// The incoming value wins: store it, and keep the displaced local value (if any) in history.
    case takeRemote
    /// The local value stays; the incoming one is kept in history when it is a different write.
    case keepLocal
    /// The same write (equal stamp): nothing to do.
    case same
}

/// The last-writer-wins decision for one register (pure, no I/O).
public enum FieldMerge {
    /// `remote` wins only when its stamp is strictly greater; stamps include the node, so writers never tie.
    public static func decide(local: Stamp?, remote: Stamp) -> MergeDecision {
        guard let local else { return .takeRemote }
        if remote == local { return .same }
        return remote > local ? .takeRemote : .keepLocal
    }
}

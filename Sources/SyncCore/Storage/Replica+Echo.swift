import GRDB

/// Echo ranges: the local sequences a batch from a peer took, so that the feed for that peer skips them.
extension Replica {
    /// The local sequences at which changes from `peer` were applied, after `base` (the rest are read
    /// by no feed any more).
    public func echoRanges(from peer: String, after base: Int64 = 0) throws -> SequenceRanges {
        try read { db in SequenceRanges(try Self.echoRanges(db, peer: peer, after: base)) }
    }

    static func echoRanges(_ db: Database, peer: String, after base: Int64) throws -> [ClosedRange<Int64>] {
        let statement = try SQLStatement(
            cached: db, "SELECT lo, hi FROM _echo WHERE peer = ?1 AND hi > ?2 ORDER BY lo")
        statement.bind(peer, at: 1)
        statement.bind(base, at: 2)
        defer { statement.reset() }
        var ranges: [ClosedRange<Int64>] = []
        while try statement.step() {
            let low = statement.int64(0)
            ranges.append(low...max(low, statement.int64(1)))
        }
        return ranges
    }

    /// Merges a batch that `peer` sent, remembering the local sequences it took so that a feed for that
    /// peer leaves them out (no echo), and saves `progress`, all in one transaction.
    ///
    /// - `scope`: when set (a device's or hub's city), every record must lie in that scope, as sent and
    ///   as stored here; one that does not is refused on its own (``ApplyReport/refused``).
    /// - `fromClient`: a server's apply of what a client pushed: a new profile must carry its required
    ///   fields and references must stay in their record's scope, or that record is refused. Records a node
    ///   refuses are kept in `_refused`, whatever the source.
    /// - `pruneEchoBelow`: echo ranges ending at or below this sequence are dropped (no reader needs them).
    /// - `sender`: the node that sent the batch. Its own stamps are held to the drift bound; the stamps
    ///   it relays (a hub's devices', a server's page) to ``ReplicaConfiguration/maxRelayedDriftMillis``.
    ///   Nil: every stamp to the drift bound.
    /// - `serverClock`: a server checks stamps against the clock it checked the request's clock with and
    ///   answers with (its own wall clock), not against a correction it learnt as a client of its
    ///   upstream, which goes stale when its wall clock is set. Nil: this node's corrected clock.
    /// - `lease`: a server moves the client's lease (``checkLease(_:node:now:)``) in the same transaction;
    ///   two copies of the node throw `.duplicateNode` and nothing is written, not even that finding; a
    ///   request that follows one not applied yet throws `.outOfOrder`.
    @discardableResult
    func recordEcho(_ db: Database, peer: String, range: ClosedRange<Int64>) throws {
        // Consecutive applies from one peer extend one range.
        let extend = try statements.statement(db, .init(kind: .echoExtend)) {
            "UPDATE _echo SET hi = ?1 WHERE peer = ?2 AND hi = ?3"
        }
        extend.bind(range.upperBound, at: 1)
        extend.bind(peer, at: 2)
        extend.bind(range.lowerBound - 1, at: 3)
        try extend.run()
        if extend.changes == 0 {
            let insert = try statements.statement(db, .init(kind: .echoInsert)) {
                "INSERT OR REPLACE INTO _echo(peer, lo, hi) VALUES (?1, ?2, ?3)"
            }
            insert.bind(peer, at: 1)
            insert.bind(range.lowerBound, at: 2)
            insert.bind(range.upperBound, at: 3)
            try insert.run()
        }
    }

    func pruneEcho(_ db: Database, peer: String, below sequence: Int64) throws {
        let prune = try statements.statement(db, .init(kind: .echoPrune)) {
            "DELETE FROM _echo WHERE peer = ?1 AND hi <= ?2"
        }
        prune.bind(peer, at: 1)
        prune.bind(sequence, at: 2)
        try prune.run()
    }
}

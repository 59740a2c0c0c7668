import Logging
import PostgresNIO
package import SyncCore

/// Client leases on PostgreSQL (`_leases`): the SQLite replica's decision (``LeaseBook``), one node at a
/// time across instances.
extension PostgresStore {
    /// Checks and moves a client's lease without a push, in its own transaction; a duplicate found is
    /// remembered (see ``SyncStore/moveLease(_:)``).
    package func moveLease(_ move: LeaseMove) async throws -> LeaseCheck {
        try await database.withTransaction { connection in
            try await Self.moveLease(connection, move, logger: self.logger)
        }
    }

    /// ``moveLease(_:)`` inside the caller's transaction. Two requests of one node on two instances take
    /// turns on a lock of that node's (held to the end of the transaction), so that each decides on what
    /// the other wrote.
    static func moveLease(
        _ connection: PostgresConnection, _ move: LeaseMove, logger: Logger
    ) async throws
        -> LeaseCheck
    {
        let key = move.node.description
        try await connection.run(
            "SELECT pg_advisory_xact_lock(hashtextextended(\("lease:" + key), 0))", logger: logger)
        var stored: LeaseBook?
        let rows = try await connection.run(
            "SELECT lease, moves, duplicate_ms FROM _leases WHERE node = \(key)", logger: logger)
        for try await (lease, moves, duplicate) in rows.decode((Int64?, String?, Int64?).self) {
            stored = LeaseBook(
                lease: lease.map { UInt64(bitPattern: $0) }, moves: moves ?? "", duplicate: duplicate != nil)
        }
        let (check, write) = LeaseBook.decide(move.lease, stored: stored)
        switch write {
        case .none:
            break
        case .insert(let lease, let moves):
            try await connection.run(
                "INSERT INTO _leases (node, lease, moves) VALUES (\(key), \(lease.map { Int64(bitPattern: $0) }), \(moves))",
                logger: logger)
        case .update(let lease, let moves):
            try await connection.run(
                "UPDATE _leases SET lease = \(Int64(bitPattern: lease)), moves = \(moves) WHERE node = \(key)",
                logger: logger)
        case .markDuplicate:
            try await connection.run(
                "UPDATE _leases SET duplicate_ms = \(move.now) WHERE node = \(key)", logger: logger)
        }
        return check
    }
}

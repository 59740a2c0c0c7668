import CentralPostgres
import FieldDomain
import PostgresNIO
import SyncCore
import Testing

extension TokenStoreTests {
    /// The race SQLite cannot have (its writers are serialized) and PostgreSQL's `READ COMMITTED` can: a
    /// bind whose `NOT EXISTS` runs before another token's bind of the same node commits. The unique
    /// constraint makes it wait for that commit, then lose.
    @Test("on PostgreSQL, a bind that waits on another token's uncommitted bind of the node loses")
    func bindBehindUncommitted() async throws {
        try await withTestDatabase(poolSize: 4) { database in
            let store = try await PostgresStore(database, schema: .fieldSync)
            try await store.addToken(token("tok_a", .device, city: "Sfax", name: "a", created: 1), hash: hash(1))
            try await store.addToken(token("tok_b", .device, city: "Sfax", name: "b", created: 2), hash: hash(2))
            let contested = node(7)
            let waiting = try await database.withTransaction { connection in
                try await connection.query(
                    "UPDATE _tokens SET node = \(contested.description) WHERE id = 'tok_a'", logger: quietLogger)
                let waiting = Task { try await store.bind(token: "tok_b", to: contested) }
                // Commits only once the other bind waits for this transaction's row.
                var blocked = false
                for _ in 0..<250 where !blocked {
                    blocked = try await database.withConnection { other in
                        let rows = try await other.query(
                            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
                            logger: quietLogger)
                        for try await count in rows.decode(Int.self) { return count > 0 }
                        return false
                    }
                    if !blocked { try await Task.sleep(for: .milliseconds(20)) }
                }
                #expect(blocked, "the second bind never waited on the first")
                return waiting
            }
            #expect(try await waiting.value == nil)
            #expect(try await store.boundNode(token: "tok_a") == contested)
            #expect(try await store.boundNode(token: "tok_b") == nil)
        }
    }
}

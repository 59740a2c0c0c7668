import CentralPostgres
import FieldDomain
import SyncCore
import Testing

/// What a dishonest device or hub sends that central on PostgreSQL must store as SQLite does: a heartbeat
/// whose texts hold U+0000 (relayed by its hub in every later sync), a relayed conflict whose value holds
/// it. PostgreSQL's `jsonb` refuses U+0000, so each such request failed there (422), and a hub relaying
/// one device's status failed every sync after: its whole city stopped.
@Suite("PostgreSQL and hostile texts", .postgresCluster)
struct HostileTextTests {
    @Test func aStatusOrAConflictHoldingNULIsKept() async throws {
        let body = """
            {"v":1,"node":"00000000000000aa","clock":1780000000000,\
            "heartbeat":{"app":"1.0\\u0000x","last_error":"e\\u0000"},\
            "conflicts":[{"collection":"families","record":"F1","field":"notes","value":"a\\u0000b",\
            "value_hlc":1,"value_node":"0000000000001111","winner_hlc":2,"winner_node":"0000000000002222"}]}
            """
        let request = try SyncRequest(decoding: Array(body.utf8))
        let heartbeat = try #require(request.heartbeat)
        let status = DeviceStatus(
            node: request.node, name: "phone", role: "device", city: "Fès", heartbeat: heartbeat,
            clockOffsetMillis: 0, lastSeenMillis: 1_780_000_000_000)
        try await withTestDatabase { database in
            let store = try await PostgresStore(database, schema: .fieldSync)
            try await store.recordStatuses([status], via: nil)
            #expect(try await store.recordConflicts(request.conflicts, scope: nil) == 1)
        }
    }
}

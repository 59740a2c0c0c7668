import CentralPostgres
import FieldDomain
import Foundation
import PostgresNIO
import SyncCore
import Testing

/// The tokens and settings of ``SyncStore``, as both engines keep them: what the server's token commands,
/// its authentication and its node binding rely on.
protocol TokenAndSettingStore: Sendable {
    func token(hash: [UInt8]) async throws -> StoredToken?
    func addToken(_ token: TokenRecord, hash: [UInt8]) async throws
    func tokens() async throws -> [TokenRecord]
    func revokeTokens(idOrName: String, now: Int64) async throws -> [TokenRecord]
    func boundNode(token id: String) async throws -> NodeID?
    func bind(token id: String, to node: NodeID) async throws -> NodeID?
    func rebind(token id: String, from old: NodeID, to new: NodeID) async throws -> NodeID?
    func setting(_ key: String) async throws -> String?
    func saveSettings(_ values: [String: String?]) async throws
}

extension ReplicaStore: TokenAndSettingStore {}
extension PostgresStore: TokenAndSettingStore {}

/// The engines every test body below runs on: the same assertions, so the same meaning.
enum Engine: String, CaseIterable, Sendable {
    case sqlite, postgres

    /// Runs `body` on a new, empty store of this engine (a replica file, or a database of the suite's
    /// cluster), and removes it after.
    func withStore(_ body: (any TokenAndSettingStore) async throws -> Void) async throws {
        switch self {
        case .sqlite:
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tokens-\(UUID())")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let replica = try Replica(
                path: folder.appendingPathComponent("central.db").path, schema: Schema([]), logger: quietLogger)
            try await body(ReplicaStore(replica))
        case .postgres:
            try await withTestDatabase(poolSize: 8) { database in
                try await body(PostgresStore(database, schema: .fieldSync))
            }
        }
    }
}

@Suite("Tokens and settings, on SQLite and on PostgreSQL", .postgresCluster)
struct TokenStoreTests {
    @Test("a token is found by its hash, with the hash as stored", arguments: Engine.allCases)
    func findByHash(engine: Engine) async throws {
        try await engine.withStore { store in
            let hub = token("tok_hub", .hub, city: "Tunis", name: "hub-tunis", created: 1_000)
            let admin = token("tok_admin", .admin, city: nil, name: "admin", created: 2_000)
            try await store.addToken(hub, hash: hash(1))
            try await store.addToken(admin, hash: hash(2))
            #expect(try await store.token(hash: hash(1)) == StoredToken(record: hub, hash: hash(1)))
            #expect(try await store.token(hash: hash(2)) == StoredToken(record: admin, hash: hash(2)))
            #expect(try await store.token(hash: hash(3)) == nil)
            #expect(try await store.token(hash: []) == nil)
        }
    }

    @Test("a token's id and hash are unique", arguments: Engine.allCases)
    func unique(engine: Engine) async throws {
        try await engine.withStore { store in
            try await store.addToken(token("tok_a", .device, city: "Sfax", name: "a", created: 1), hash: hash(1))
            let sameID = await #expect(throws: SyncError.self) {
                try await store.addToken(token("tok_a", .device, city: "Sfax", name: "b", created: 2), hash: hash(2))
            }
            #expect(sameID?.code == .storage)
            let sameHash = await #expect(throws: SyncError.self) {
                try await store.addToken(token("tok_b", .device, city: "Sfax", name: "b", created: 2), hash: hash(1))
            }
            #expect(sameHash?.code == .storage)
            #expect(try await store.tokens().map(\.id) == ["tok_a"])
        }
    }

    @Test("tokens are listed oldest first, then by id", arguments: Engine.allCases)
    func listed(engine: Engine) async throws {
        try await engine.withStore { store in
            try await store.addToken(token("tok_b", .hub, city: "Sfax", name: "b", created: 300), hash: hash(1))
            try await store.addToken(token("tok_c", .device, city: "Sfax", name: "c", created: 100), hash: hash(2))
            try await store.addToken(token("tok_a", .admin, city: nil, name: "a", created: 100), hash: hash(3))
            try await store.addToken(token("tok_B", .admin, city: nil, name: "B", created: 100), hash: hash(4))
            #expect(try await store.tokens().map(\.id) == ["tok_B", "tok_a", "tok_c", "tok_b"])
        }
    }

    @Test("revoking by id or by name revokes the active tokens once", arguments: Engine.allCases)
    func revoke(engine: Engine) async throws {
        try await engine.withStore { store in
            let phone = token("tok_1", .device, city: "Tunis", name: "amina-phone", created: 1)
            let again = token("tok_2", .device, city: "Tunis", name: "amina-phone", created: 2)
            let other = token("tok_3", .device, city: "Tunis", name: "other", created: 3)
            for (index, record) in [phone, again, other].enumerated() {
                try await store.addToken(record, hash: hash(UInt8(index)))
            }
            let revoked = try await store.revokeTokens(idOrName: "amina-phone", now: 50)
            #expect(revoked.map(\.id) == ["tok_1", "tok_2"])
            #expect(revoked.allSatisfy { $0.revokedMillis == 50 })
            #expect(try await store.revokeTokens(idOrName: "amina-phone", now: 60) == [])
            #expect(try await store.revokeTokens(idOrName: "tok_3", now: 70).map(\.revokedMillis) == [70])
            #expect(try await store.revokeTokens(idOrName: "nobody", now: 80) == [])
            #expect(try await store.token(hash: hash(0))?.record.revokedMillis == 50)
            #expect(try await store.tokens().map(\.revokedMillis) == [50, 50, 70])
        }
    }

    @Test("a token binds to the node of its first sync; a node belongs to one token", arguments: Engine.allCases)
    func bind(engine: Engine) async throws {
        try await engine.withStore { store in
            try await store.addToken(token("tok_a", .device, city: "Sfax", name: "a", created: 1), hash: hash(1))
            try await store.addToken(token("tok_b", .device, city: "Sfax", name: "b", created: 2), hash: hash(2))
            #expect(try await store.boundNode(token: "tok_a") == nil)
            #expect(try await store.bind(token: "tok_a", to: node(1)) == node(1))
            #expect(try await store.boundNode(token: "tok_a") == node(1))
            #expect(try await store.token(hash: hash(1))?.record.node == node(1))
            // Bound already: the first node stays.
            #expect(try await store.bind(token: "tok_a", to: node(2)) == node(1))
            // Another token's node: refused.
            #expect(try await store.bind(token: "tok_b", to: node(1)) == nil)
            #expect(try await store.boundNode(token: "tok_b") == nil)
            // Unknown tokens bind nothing.
            #expect(try await store.bind(token: "tok_none", to: node(3)) == nil)
            #expect(try await store.boundNode(token: "tok_none") == nil)
            // A revoked token keeps its node.
            _ = try await store.revokeTokens(idOrName: "tok_a", now: 10)
            #expect(try await store.bind(token: "tok_b", to: node(1)) == nil)
            #expect(try await store.bind(token: "tok_b", to: node(2)) == node(2))
        }
    }

    @Test("a token found duplicated moves to a new node, unless another token holds it", arguments: Engine.allCases)
    func rebind(engine: Engine) async throws {
        try await engine.withStore { store in
            try await store.addToken(token("tok_a", .device, city: "Sfax", name: "a", created: 1), hash: hash(1))
            try await store.addToken(token("tok_b", .device, city: "Sfax", name: "b", created: 2), hash: hash(2))
            #expect(try await store.bind(token: "tok_a", to: node(1)) == node(1))
            #expect(try await store.bind(token: "tok_b", to: node(2)) == node(2))
            #expect(try await store.rebind(token: "tok_a", from: node(1), to: node(3)) == node(3))
            // Moved already by another request: unchanged.
            #expect(try await store.rebind(token: "tok_a", from: node(1), to: node(4)) == node(3))
            // Held by another token: unchanged.
            #expect(try await store.rebind(token: "tok_a", from: node(3), to: node(2)) == node(3))
            // An unbound token is not bound by a rebind.
            try await store.addToken(token("tok_c", .device, city: "Sfax", name: "c", created: 3), hash: hash(3))
            #expect(try await store.rebind(token: "tok_c", from: node(5), to: node(6)) == nil)
            #expect(try await store.boundNode(token: "tok_a") == node(3))
            #expect(try await store.boundNode(token: "tok_b") == node(2))
        }
    }

    @Test("two tokens binding one node at once: exactly one wins", arguments: Engine.allCases)
    func bindRace(engine: Engine) async throws {
        try await engine.withStore { store in
            for round in 0..<20 {
                let first = "tok_\(round)_a"
                let second = "tok_\(round)_b"
                try await store.addToken(
                    token(first, .device, city: "Sfax", name: first, created: 1), hash: hash(UInt8(2 * round)))
                try await store.addToken(
                    token(second, .device, city: "Sfax", name: second, created: 1), hash: hash(UInt8(2 * round + 1)))
                let contested = node(Int64(100 + round))
                async let one = store.bind(token: first, to: contested)
                async let two = store.bind(token: second, to: contested)
                let results = try await [one, two]
                #expect(results.filter { $0 == contested }.count == 1, "round \(round): \(results)")
                #expect(results.filter { $0 == nil }.count == 1, "round \(round): \(results)")
                let holders = [try await store.boundNode(token: first), try await store.boundNode(token: second)]
                #expect(holders.filter { $0 == contested }.count == 1, "round \(round): \(holders)")
            }
        }
    }

    @Test("settings: saved in one go, nil removes, missing is nil", arguments: Engine.allCases)
    func settings(engine: Engine) async throws {
        try await engine.withStore { store in
            #expect(try await store.setting("upstream") == nil)
            try await store.saveSettings(["upstream": "https://central.example.org", "empty": "", "city": "Tunis"])
            #expect(try await store.setting("upstream") == "https://central.example.org")
            #expect(try await store.setting("empty") == "")
            try await store.saveSettings(["upstream": "https://other.example.org", "city": nil, "note": "é ✓ ش"])
            #expect(try await store.setting("upstream") == "https://other.example.org")
            #expect(try await store.setting("city") == nil)
            #expect(try await store.setting("note") == "é ✓ ش")
            try await store.saveSettings([:])
            try await store.saveSettings(["never-there": nil])
            #expect(try await store.setting("never-there") == nil)
        }
    }
}

func token(_ id: String, _ role: Principal.Role, city: String?, name: String, created: Int64) -> TokenRecord {
    TokenRecord(id: id, role: role, city: city, name: name, createdMillis: created)
}

/// A 32-byte hash, distinct for each `seed`.
func hash(_ seed: UInt8) -> [UInt8] {
    [seed] + (1..<32).map { UInt8($0) }
}

func node(_ raw: Int64) -> NodeID { NodeID(rawValue: raw)! }

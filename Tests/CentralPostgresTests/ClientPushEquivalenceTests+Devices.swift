import CentralPostgres
import FieldDomain
import Foundation
import Logging
import SyncCore
import Testing

/// Seeded histories of devices pushing to central, one with a restored backup, give the same central and
/// the same pulled devices on both engines.
extension ClientPushEquivalenceTests {
    /// 200 seeds (25 a part, on one pair of centrals: later seeds meet earlier state). In each, a device of
    /// each city and the admin push random batches (concurrent family edits, deletes, deliveries, voids,
    /// unknown fields) with their lease moves, and at random a device is restored from an earlier copy of
    /// itself: it pushes again from there (refused on both engines as a duplicated node, as is the copy it
    /// replaced afterwards), takes a new node id and pushes its pending batches again under it. Every push
    /// gets the same outcome on both; after each seed both dump the same, and a fresh device of each city
    /// and of the admin, each pulling its feed through ``SyncSession`` in small pages, ends identical.
    @Test(arguments: 0..<8)
    func devicesAndARestoredBackupGiveTheSameCentralAndTheSamePulls(part: Int) async throws {
        try await withTestDatabase(poolSize: 2) { database in
            let postgres = try await PostgresStore(database, schema: Self.schema)
            var configuration = ReplicaConfiguration()
            configuration.clock = FixedClock(millis: UInt64(Self.now))
            configuration.durability = .off
            let sqlite = try ReplicaStore(Replica(inMemory: Self.schema, configuration: configuration))
            var outcomes: [String: Int] = [:]
            for seed in (part * 25)..<(part * 25 + 25) {
                var history = DeviceHistory(seed: UInt64(seed))
                while let push = history.nextPush() {
                    let expected = await Self.result { try await sqlite.apply(push) }
                    let actual = await Self.result { try await postgres.apply(push) }
                    switch (expected, actual) {
                    case (.success(let expected), .success(let actual)):
                        #expect(actual == expected, "seed \(seed) step \(history.step)")
                        history.accepted()
                        outcomes[expected.refused.isEmpty ? "applied" : "refused", default: 0] += 1
                    case (.failure(let expected as SyncError), .failure(let actual as SyncError)):
                        #expect(actual.code == expected.code, "seed \(seed) step \(history.step)")
                        #expect(actual.message == expected.message, "seed \(seed) step \(history.step)")
                        history.refused(expected.code)
                        outcomes[expected.code.rawValue, default: 0] += 1
                    default:
                        Issue.record("seed \(seed) step \(history.step): SQLite \(expected), PostgreSQL \(actual)")
                        return
                    }
                }
                outcomes["restored", default: 0] += history.restores
                let (expected, actual) = (try sqlite.replica.dump(), try await postgres.dump())
                #expect(actual == expected, "seed \(seed): central's dump")
                if actual != expected { return }
                for (index, scope) in ["Fès", "Rabat", nil].enumerated() {
                    let node = NodeID(rawValue: 0x7000_0000 + Int64(seed) * 4 + Int64(index))!
                    let pageSize = 1 + history.generator.next(5)
                    let fromSQLite = try await pulledDevice(node, scope: scope, from: sqlite, pageSize: pageSize)
                    let fromPostgres = try await pulledDevice(node, scope: scope, from: postgres, pageSize: pageSize)
                    #expect(fromPostgres.dump == fromSQLite.dump, "seed \(seed): the device of \(scope ?? "the admin")")
                    #expect(fromPostgres.pulled == fromSQLite.pulled, "seed \(seed): \(scope ?? "the admin")'s pull")
                    outcomes["pulled records", default: 0] += fromSQLite.pulled
                }
            }
            print("client pushes with devices, part \(part): \(outcomes.sorted { $0.key < $1.key })")
            // Every kind of push was met: refusals, duplicated nodes after a restore, applied pushes.
            #expect(outcomes["refused", default: 0] > 5, "\(outcomes)")
            #expect(outcomes["restored", default: 0] > 3, "\(outcomes)")
            #expect(outcomes[SyncError.Code.duplicateNode.rawValue, default: 0] > 3, "\(outcomes)")
            #expect(outcomes["pulled records", default: 0] > 100, "\(outcomes)")
        }
    }

    /// A fresh replica (node `node`) of a device of `scope` (the admin when nil) after it synced with
    /// `store` through ``SyncSession``, in pages of `pageSize` records: its dump and how many records it
    /// pulled.
    private func pulledDevice(
        _ node: NodeID, scope: String?, from store: any SyncStore, pageSize: Int
    ) async throws -> (dump: String, pulled: Int) {
        var configuration = ReplicaConfiguration()
        configuration.clock = FixedClock(millis: UInt64(Self.now))
        configuration.durability = .off
        configuration.nodeID = node
        let replica = try Replica(inMemory: Self.schema, configuration: configuration)
        let principal = Principal(role: scope == nil ? .admin : .device, city: scope, name: "puller")
        let transport = StoreTransport(
            service: SyncService(store: store, logger: quietLogger), principal: principal, now: Self.now)
        // SyncSession blocks its thread while the store works: a thread of its own, off the cooperative pool.
        let summary = try await onThread {
            var session = SyncSession(replica: replica, transport: transport, peer: "central", logger: quietLogger)
            session.batchSize = pageSize
            session.makeLease = { 1 }
            return try session.run()
        }
        return (try replica.dump(), summary.pulled)
    }
}

/// A client's link straight to a ``SyncService`` (no HTTP), through the real encoding.
struct StoreTransport: SyncTransport {
    let service: SyncService
    let principal: Principal
    let now: Int64

    func exchange(_ body: SyncRequestBody) throws -> SyncExchange {
        let request = try SyncRequest(decoding: try body.json())
        do {
            let bytes = try service.handleWaiting(request, principal: principal, now: now).encoded()
            return SyncExchange(
                response: try SyncResponse(decoding: bytes), bytesSent: body.bytes.count, bytesReceived: bytes.count)
        } catch let error as SyncError {
            let status = error.code == .clockDrift || error.code == .duplicateNode ? 409 : 422
            throw Problem(error, status: status, title: error.code.rawValue, serverClockMillis: now)
        }
    }
}

/// Runs blocking work on a thread of its own and waits for it without holding a thread of the cooperative
/// pool (which PostgresNIO's pool needs to open connections).
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

import FieldDomain
import Foundation
import Logging
import SyncCore
import Synchronization
import Testing

/// A transport that calls a ``SyncService`` in-process through the real encoding, and can lose
/// requests or responses (after the server committed) on demand. The server answers on its replica's
/// wall clock, as `sync-server` does.
final class LoopbackTransport: SyncTransport {
    let service: SyncService
    let principal: Principal
    private let faults = Mutex<(dropRequests: Int, dropResponses: Int, exchanges: Int, pushedRecords: Int)>(
        (0, 0, 0, 0))

    init(service: SyncService, principal: Principal) {
        self.service = service
        self.principal = principal
    }

    struct Lost: Error {}

    func loseNext(requests: Int = 0, responses: Int = 0) {
        faults.withLock {
            $0.dropRequests = requests; $0.dropResponses = responses
        }
    }

    var exchanges: Int { faults.withLock { $0.exchanges } }
    /// Records the server received in pushes (duplicates included).
    var pushedRecords: Int { faults.withLock { $0.pushedRecords } }

    func exchange(_ request: SyncRequestBody) throws -> SyncExchange {
        let body = try request.json()
        let dropRequest = faults.withLock { state -> Bool in
            state.exchanges += 1
            if state.dropRequests > 0 { state.dropRequests -= 1; return true }
            return false
        }
        if dropRequest { throw Lost() }
        let decoded = try SyncRequest(decoding: body)
        faults.withLock { $0.pushedRecords += decoded.push?.batch.recordCount ?? 0 }
        let response: SyncResponse
        let now = Int64(service.replica.configuration.clock.nowMillis())
        do {
            response = try service.handleWaiting(decoded, principal: principal, now: now)
        } catch let error as SyncError
            where error.code == .clockDrift || error.code == .duplicateNode || error.code == .outOfOrder
        {
            throw Problem(error, status: 409, title: "conflict", serverClockMillis: now)
        }
        let bytes = response.encoded()
        let dropResponse = faults.withLock { state -> Bool in
            if state.dropResponses > 0 { state.dropResponses -= 1; return true }
            return false
        }
        if dropResponse { throw Lost() }
        return SyncExchange(
            response: try SyncResponse(decoding: bytes), bytesSent: body.count, bytesReceived: bytes.count)
    }
}

func makeSession(_ replica: Replica, _ transport: LoopbackTransport, batchSize: Int = 1000) -> SyncSession {
    var session = SyncSession(replica: replica, transport: transport, peer: "upstream", logger: Logger(label: "test"))
    session.batchSize = batchSize
    return session
}

/// Registers `families` families in `city` on `replica`, with `deliveriesEach` deliveries each; returns their ids.
@discardableResult
func logWork(_ replica: Replica, city: String, families: Int, deliveriesEach: Int, tag: String) throws -> [String] {
    try replica.write { tx in
        var ids: [String] = []
        for f in 0..<families {
            let id = try tx.addFamily(NewFamily(city: city, reference: "R-\(tag)-\(f)", headName: "Head \(f)"))
            ids.append(id)
            for d in 0..<deliveriesEach {
                _ = try tx.logDelivery(
                    NewDelivery(
                        city: city, family: id, item: .foodPack, quantity: 1, campaign: "c1",
                        deliveredAt: 1_780_000_000_000 + UInt64(d), volunteer: "v-\(tag)"))
            }
        }
        return ids
    }
}

@Suite("Sync session")
struct SessionTests {
    @Test func devicesHubAndCentralConvergeWithoutEcho() throws {
        let clock = ManualClock()
        let central = try makeReplica(clock: clock)
        let centralService = try SyncService(replica: central, logger: Logger(label: "central"))
        let hubs = try ["Tunis", "Sfax"].map { city in (city, try makeReplica(clock: clock)) }
        var devices: [(city: String, replica: Replica)] = []
        for (city, count) in [("Tunis", 2), ("Sfax", 1)] {
            for _ in 0..<count { devices.append((city, try makeReplica(clock: clock))) }
        }
        for (index, device) in devices.enumerated() {
            try logWork(device.replica, city: device.city, families: 20, deliveriesEach: 3, tag: "d\(index)")
        }
        func hub(_ city: String) -> Replica { hubs.first { $0.0 == city }!.1 }
        func syncDevice(_ device: (city: String, replica: Replica)) throws -> LoopbackTransport {
            let service = try SyncService(replica: hub(device.city), logger: Logger(label: "hub"))
            let transport = LoopbackTransport(
                service: service, principal: Principal(role: .device, city: device.city, name: "d"))
            try makeSession(device.replica, transport, batchSize: 25).run()
            return transport
        }
        func syncHub(_ city: String) throws {
            let transport = LoopbackTransport(
                service: centralService, principal: Principal(role: .hub, city: city, name: "h"))
            try makeSession(hub(city), transport, batchSize: 50).run()
        }
        for device in devices { _ = try syncDevice(device) }
        for (city, _) in hubs { try syncHub(city) }
        for (city, _) in hubs { try syncHub(city) }
        var echoFree = true
        for device in devices {
            let transport = try syncDevice(device)
            // The device's second sync pushes nothing back (no echo) and pulls the rest of its city.
            echoFree = echoFree && transport.pushedRecords == 0
        }
        #expect(echoFree)
        // Every replica of a city holds the same families and deliveries; nobody holds another city's.
        for (city, hubReplica) in hubs {
            let expected = try hubReplica.dump()
            for device in devices where device.city == city {
                #expect(try device.replica.dump() == expected, "\(city)")
            }
            let cities = try hubReplica.read { db in try String.fetchSet(db, sql: "SELECT DISTINCT city FROM families")
            }
            #expect(cities == [city])
        }
        let total = try central.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM deliveries") }
        #expect(total == 3 * 20 * 3)
        // A sync with nothing to do is one round trip.
        let idle = LoopbackTransport(
            service: try SyncService(replica: hub("Sfax"), logger: Logger(label: "hub")),
            principal: Principal(role: .device, city: "Sfax", name: "d"))
        let summary = try makeSession(devices[2].replica, idle).run()
        #expect(summary.roundTrips == 1 && summary.pushed == 0 && summary.pulled == 0)
    }

    @Test func lostResponsesAfterCommitNeitherLoseNorDuplicate() throws {
        let clock = ManualClock()
        let server = try makeReplica(clock: clock)
        let device = try makeReplica(clock: clock)
        try logWork(device, city: "Tunis", families: 30, deliveriesEach: 4, tag: "x")
        let transport = LoopbackTransport(
            service: try SyncService(replica: server, logger: Logger(label: "s")),
            principal: Principal(role: .device, city: "Tunis", name: "d"))
        var failures = 0
        for round in 0..<40 {
            transport.loseNext(requests: round % 3 == 0 ? 1 : 0, responses: round % 2 == 0 ? 1 : 0)
            do {
                try makeSession(device, transport, batchSize: 7).run()
                break
            } catch is LoopbackTransport.Lost {
                failures += 1
            }
        }
        #expect(failures > 0)
        try makeSession(device, transport, batchSize: 7).run()
        let deliveries = try server.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM deliveries") }
        #expect(deliveries == 120)
        #expect(try server.dump() == device.dump())
        // Re-sent data stays within one batch per lost response.
        #expect(transport.pushedRecords <= 150 + failures * 7)
    }

    @Test func aDeviceWhoseClockIsAYearAheadRepairsItsPendingStamps() throws {
        let year: UInt64 = 365 * 86_400_000
        let serverClock = ManualClock()
        let deviceClock = ManualClock(serverClock.nowMillis())
        let server = try makeReplica(clock: serverClock)
        let other = try makeReplica(clock: serverClock)
        let device = try makeReplica(clock: deviceClock)
        // Another device edits the family "now" (real time); ours edits it offline with a clock a year ahead.
        let family = try logWork(other, city: "Tunis", families: 1, deliveriesEach: 0, tag: "s")[0]
        let service = try SyncService(replica: server, logger: Logger(label: "s"))
        let principal = Principal(role: .device, city: "Tunis", name: "d")
        try makeSession(other, LoopbackTransport(service: service, principal: principal)).run()
        try makeSession(device, LoopbackTransport(service: service, principal: principal)).run()
        // Then its battery dies and its clock comes back a year ahead; it works offline.
        deviceClock.advance(year)
        try device.write { tx in
            try tx.editFamily(family, ["phone": "111"])
            _ = try tx.logDelivery(
                NewDelivery(
                    city: "Tunis", family: family, item: .internetRecharge, quantity: 1, campaign: "c1",
                    deliveredAt: 1, volunteer: "ahead"))
        }
        serverClock.advance(60_000)
        deviceClock.advance(60_000)
        try other.write { tx in try tx.editFamily(family, ["phone": "222"]) }
        try makeSession(other, LoopbackTransport(service: service, principal: principal)).run()
        let summary = try makeSession(
            device, LoopbackTransport(service: service, principal: principal)
        ).run()
        #expect(summary.repairedStamps == 2)
        #expect(abs(summary.clockOffsetMillis + Int64(year)) < 5_000)
        // The later real edit (222) wins; the device's earlier one (111) is kept in history, not lost.
        let phone = try server.read { db in try String.fetchOne(db, sql: "SELECT phone FROM families") }
        #expect(phone == "222")
        #expect(try server.history().contains { $0.value == .text("111") })
        let deliveries = try server.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM deliveries") }
        #expect(deliveries == 1)
        // New stamps on the device use the corrected clock.
        try makeSession(device, LoopbackTransport(service: service, principal: principal)).run()
        #expect(try device.lastTimestamp().millis < serverClock.nowMillis() + 300_000)
    }

    /// A record outside the token's scope is refused alone: the rest is applied, the device sets it aside,
    /// and it is never sent again (a refusal about data never blocks a sync).
    @Test func aRecordOutsideTheScopeIsRefusedAlone() throws {
        let clock = ManualClock()
        let server = try makeReplica(clock: clock)
        let device = try makeReplica(clock: clock)
        try logWork(device, city: "Tunis", families: 2, deliveriesEach: 1, tag: "a")
        try logWork(device, city: "Sfax", families: 1, deliveriesEach: 0, tag: "b")
        let transport = LoopbackTransport(
            service: try SyncService(replica: server, logger: Logger(label: "s")),
            principal: Principal(role: .device, city: "Tunis", name: "d"))
        let summary = try makeSession(device, transport).run()
        #expect(summary.refused == 1 && summary.pushed == 5)
        #expect(try server.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM families") } == 2)
        #expect(try device.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM families") } == 2)
        #expect(try device.refusedRecords().map(\.refusal.code) == [.outOfScope])
        #expect(try server.refusedRecords().count == 1)
        let again = try makeSession(device, transport).run()
        #expect(again.refused == 0 && again.pushed == 0)
    }

    @Test func aForgedIdOfAnotherCitysRecordIsRefused() throws {
        let clock = ManualClock()
        let server = try makeReplica(clock: clock)
        let sfax = try makeReplica(clock: clock)
        let family = try logWork(sfax, city: "Sfax", families: 1, deliveriesEach: 1, tag: "s")[0]
        try pull(from: sfax, into: server)
        let delivery = try #require(
            try server.read { db in try String.fetchOne(db, sql: "SELECT id FROM deliveries") })
        let before = try server.dump()
        let tunisDevice = node(0x7001)
        let stamp = Stamp(hlc: HLCTimestamp(millis: clock.nowMillis() - 60_000, counter: 0), node: tunisDevice)
        // A Tunis device sends a fact under the Sfax delivery's id (older stamp: it would win the collision),
        // and a family edit under the Sfax family's id without its city.
        let forgedFact = ChangeBatch([
            CollectionChanges(
                name: "deliveries", fields: deliveryFields.filter { $0 != "note" },
                records: [
                    RecordChange(
                        id: delivery, stamp: stamp,
                        cells: [
                            Cell(field: 0, value: "Tunis"), Cell(field: 1, value: .text(family)),
                            Cell(field: 2, value: "food_pack"), Cell(field: 3, value: 1), Cell(field: 4, value: "c1"),
                            Cell(field: 5, value: 1), Cell(field: 6, value: "x"),
                        ])
                ])
        ])
        let forgedEdit = ChangeBatch([
            CollectionChanges(
                name: "families", fields: ["phone"],
                records: [RecordChange(id: family, stamp: stamp, cells: [Cell(field: 0, value: "000")])])
        ])
        for batch in [forgedFact, forgedEdit] {
            let report = try server.apply(batch, from: "client:x", scope: "Tunis", fromClient: true)
            // (The forged fact names the Sfax family too: refused for that reference before its id is looked at.)
            #expect(report.refused.count == 1 && [.outOfScope, .badReference].contains(report.refused[0].code))
        }
        #expect(try server.dump() == before)
        #expect(try server.refusedRecords().count == 2)
    }

    /// A push sent again (its answer lost) is acknowledged like the first one: `records` counts every
    /// record of the batch again, `conflicts` counts nothing new, and nothing changes at the server
    /// (docs/protocol.md, section 18).
    @Test func aResentPushIsCountedAgainAndChangesNothing() throws {
        let clock = ManualClock()
        let server = try makeReplica(clock: clock)
        let device = try makeReplica(clock: clock)
        let service = try SyncService(replica: server, logger: Logger(label: "s"))
        let principal = Principal(role: .device, city: "Tunis", name: "d")
        let family = try logWork(device, city: "Tunis", families: 2, deliveriesEach: 2, tag: "r")[0]
        // And one record the server refuses (another city): counted too.
        try logWork(device, city: "Sfax", families: 1, deliveriesEach: 0, tag: "s")
        let page = try device.changes(since: .start, limit: 100)
        var request = SyncRequest(
            node: device.nodeID, clockMillis: Int64(clock.nowMillis()), push: .init(batch: page.batch, to: page.cursor))
        request.lease = .init(previous: nil, next: 42)
        let first = try service.handleWaiting(request, principal: principal, now: Int64(clock.nowMillis()))
        let dump = try server.dump()
        let history = try server.history()
        let second = try service.handleWaiting(request, principal: principal, now: Int64(clock.nowMillis()))
        #expect(first.pushed?.records == 7 && second.pushed?.records == 7)
        #expect(first.pushed?.refused.count == 1 && second.pushed?.refused.count == 1)
        #expect(second.pushed?.conflicts == 0 && second.pushed?.to == page.cursor)
        #expect(try server.dump() == dump)
        #expect(try server.history() == history)
        #expect(try server.refusedRecords().count == 1)
        #expect(try server.record("families", id: family) != nil)
    }
}

import FieldDomain
import Logging
import SyncCore
import Testing

/// Found by the simulation (seed 7000024): a push committed but unanswered, then the clock jumps a year
/// ahead. The repair used to move every unacknowledged stamp back a year, also the ones made with the
/// right clock, whose writes the server already had: device and server then held one write under two
/// stamps, for ever (the server's copy is the device's echo, never sent back).
@Suite("Clock repair")
struct ClockRepairTests {
    /// A server and a device of Tunis, each with its own clock (set alike), and the device's transport.
    static func serverAndDevice() throws -> (ManualClock, ManualClock, Replica, Replica, LoopbackTransport) {
        let serverClock = ManualClock()
        let deviceClock = ManualClock(serverClock.nowMillis())
        let server = try makeReplica(clock: serverClock)
        let device = try makeReplica(clock: deviceClock)
        let transport = LoopbackTransport(
            service: SyncService(replica: server, logger: Logger(label: "s")),
            principal: Principal(role: .device, city: "Tunis", name: "d"))
        return (serverClock, deviceClock, server, device, transport)
    }

    @Test func onlyStampsTheWrongClockMadeMove() throws {
        let year: UInt64 = 365 * 86_400_000
        let (serverClock, deviceClock, server, device, transport) = try Self.serverAndDevice()
        let family = try logWork(device, city: "Tunis", families: 1, deliveriesEach: 1, tag: "d")[0]
        transport.loseNext(responses: 1)
        #expect(throws: LoopbackTransport.Lost.self) { try makeSession(device, transport).run() }
        // The battery dies; the clock comes back a year ahead; the volunteer edits the family.
        deviceClock.advance(year)
        try device.write { tx in try tx.editFamily(family, ["phone": "555"]) }
        serverClock.advance(60_000)
        deviceClock.advance(60_000)
        let summary = try makeSession(device, transport).run()
        #expect(summary.repairedStamps == 1, "only the edit made with the wrong clock")
        #expect(try device.dump() == server.dump())
        let phone = try #require(try server.stamps("families", id: family)["phone"])
        #expect(phone.hlc.millis <= serverClock.nowMillis() + 300_000)
    }

    /// Found by the 5,000-seed soak (seed 7002213): a field written and acknowledged, the clock jumps a
    /// year ahead, the field written again. The repaired stamp of the second write must stay after the
    /// first one's (same node, later write), or the server keeps the first value and the device the second.
    @Test func aRepairedStampStaysAfterTheNodesEarlierWrites() throws {
        let year: UInt64 = 365 * 86_400_000
        let (_, deviceClock, server, device, transport) = try Self.serverAndDevice()
        let family = try logWork(device, city: "Tunis", families: 1, deliveriesEach: 0, tag: "d")[0]
        try device.write { tx in try tx.editFamily(family, ["phone": "first"]) }
        try makeSession(device, transport).run()
        deviceClock.advance(year)
        try device.write { tx in try tx.editFamily(family, ["phone": "second"]) }
        let summary = try makeSession(device, transport).run()
        #expect(summary.repairedStamps == 1)
        #expect(try server.record("families", id: family)?["phone"] == "second")
        #expect(try device.dump() == server.dump())
    }
}

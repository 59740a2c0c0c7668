import Dispatch
import Foundation
import Logging
import SyncCore
import Synchronization
import Testing

/// A ``LoopbackTransport`` that takes two requests at once, as libcurl's does, and can hold a request
/// back until the one sent behind it has been handled: the second reaches the server first.
final class WindowTransport: SyncTransport {
    let loopback: LoopbackTransport
    /// Hold each request that is not sent behind another (no `after` in its lease) until a request sent
    /// behind one has been handled, or for 50 ms.
    let reorder: Bool
    private let behindHandled = DispatchSemaphore(value: 0)
    private let counts = Mutex<(outOfOrder: Int, behind: Int, exchanges: Int)>((0, 0, 0))
    /// The request with this number (from 1, in the order they reach the transport) is lost on its way.
    let loseRequest: Int?
    /// The answer to the request with this number is lost (after the server applied it).
    let loseAnswer: Int?

    init(_ loopback: LoopbackTransport, reorder: Bool = false, loseRequest: Int? = nil, loseAnswer: Int? = nil) {
        self.loopback = loopback
        self.reorder = reorder
        self.loseRequest = loseRequest
        self.loseAnswer = loseAnswer
    }

    var allowsConcurrentExchanges: Bool { true }
    /// Requests refused as out of order, and requests sent behind another.
    var outOfOrder: Int { counts.withLock { $0.outOfOrder } }
    var behind: Int { counts.withLock { $0.behind } }

    func exchange(_ request: SyncRequestBody) throws -> SyncExchange {
        let isBehind = try SyncRequest(decoding: request.json()).lease?.after != nil
        let number = counts.withLock { state -> Int in
            if isBehind { state.behind += 1 }
            state.exchanges += 1
            return state.exchanges
        }
        if number == loseRequest { throw LoopbackTransport.Lost() }
        if reorder, !isBehind { _ = behindHandled.wait(timeout: .now() + .milliseconds(50)) }
        defer { if reorder, isBehind { behindHandled.signal() } }
        do {
            let exchange = try loopback.exchange(request)
            if number == loseAnswer { throw LoopbackTransport.Lost() }
            return exchange
        } catch let problem as Problem where problem.code == .outOfOrder {
            counts.withLock { $0.outOfOrder += 1 }
            throw problem
        }
    }
}

/// A push goes out while the one before it is unanswered (a window of two): whatever order the two reach
/// the server in, and whichever of them is lost, nothing is applied twice or out of order, no node is
/// taken for a copy of itself, and the replicas converge.
@Suite("Push window")
struct PushWindowTests {
    let clock = ManualClock()

    func setUp() throws -> (server: Replica, device: Replica, loopback: LoopbackTransport) {
        let server = try makeReplica(clock: clock)
        let device = try makeReplica(clock: clock)
        let loopback = LoopbackTransport(
            service: try SyncService(replica: server, logger: Logger(label: "s")),
            principal: Principal(role: .device, city: "Tunis", name: "d"))
        try logWork(device, city: "Tunis", families: 40, deliveriesEach: 4, tag: "w")
        return (server, device, loopback)
    }

    func session(_ device: Replica, _ transport: some SyncTransport) -> SyncSession {
        var session = SyncSession(replica: device, transport: transport, peer: "upstream", logger: Logger(label: "t"))
        session.batchSize = 20
        return session
    }

    @Test func pushesSentBehindOthersConvergeInOrder() throws {
        let (server, device, loopback) = try setUp()
        let window = WindowTransport(loopback, reorder: false)
        let summary = try session(device, window).run()
        #expect(summary.pushed == 200)
        #expect(window.behind > 0)
        // Records reach the server's merge once, but for those of a request that overtook the one before
        // it (two requests sent at once can reach the server in either order): refused, rolled back, and
        // sent again.
        #expect(loopback.pushedRecords == 200 + 20 * window.outOfOrder)
        #expect(try server.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM deliveries") } == 160)
        #expect(try server.dump() == device.dump())
        #expect(try !server.isDuplicated(device.nodeID))
        // Both moves acknowledged: nothing pending after the sync.
        let state = try device.peerState("upstream")
        #expect(state.leaseNext == nil && state.leaseThen == nil)
    }

    @Test func aRequestThatOvertakesTheOneBeforeItIsRefusedAndSentAgain() throws {
        let (server, device, loopback) = try setUp()
        let window = WindowTransport(loopback, reorder: true)
        let summary = try session(device, window).run()
        #expect(summary.pushed == 200)
        #expect(window.outOfOrder > 0)
        #expect(try server.dump() == device.dump())
        #expect(try !server.isDuplicated(device.nodeID))
        // Refused requests applied nothing: every record reached the server's merge once (the refused
        // ones were rolled back, and are counted here as sent).
        #expect(loopback.pushedRecords == 200 + 20 * window.outOfOrder)
        #expect(try server.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM deliveries") } == 160)
        // A later sync pushes nothing and takes one round trip.
        let again = try session(device, window).run()
        #expect(again.pushed == 0 && again.roundTrips == 1)
    }

    @Test func aLostRequestLeavesTwoPendingMovesThatTheNextSyncSettles() throws {
        let (server, device, loopback) = try setUp()
        // Of the two requests sent together after the first answer, one is lost: the sync fails with
        // both moves saved as pending (the one behind was refused, or sent behind the lost one).
        #expect(throws: LoopbackTransport.Lost.self) {
            try session(device, WindowTransport(loopback, loseRequest: 2)).run()
        }
        let pending = try device.peerState("upstream")
        #expect(pending.leaseNext != nil && pending.leaseThen != nil)
        // The next sync settles both moves, in order, then pushes the rest.
        let summary = try session(device, WindowTransport(loopback)).run()
        #expect(try server.dump() == device.dump())
        #expect(try !server.isDuplicated(device.nodeID))
        #expect(summary.newNodeID == nil)
        let state = try device.peerState("upstream")
        #expect(state.leaseNext == nil && state.leaseThen == nil)
    }

    @Test func aLostAnswerIsAcknowledgedByTheRequestBehindIt() throws {
        let (server, device, loopback) = try setUp()
        // The answer to the third request is lost. The request sent behind it (or the one behind that)
        // was accepted, which proves it applied: the sync goes on and sends nothing twice. (Unless the one
        // behind had overtaken it and was refused: then the sync fails, and the next one re-sends the
        // lost answer's batch, and only that.)
        let window = WindowTransport(loopback, loseAnswer: 3)
        let retry = WindowTransport(loopback)
        var resumed = false
        do {
            let summary = try session(device, window).run()
            #expect(summary.pushed == 200)
        } catch {
            #expect(window.outOfOrder > 0, "failed without a refused request: \(error)")
            try session(device, retry).run()
            resumed = true
        }
        let refused = window.outOfOrder + retry.outOfOrder
        #expect(loopback.pushedRecords <= 200 + 20 * refused + (resumed ? 20 : 0))
        #expect(try server.dump() == device.dump())
        #expect(try !server.isDuplicated(device.nodeID))
    }

    @Test func theServerRefusesAnOvertakingRequestWithoutTakingItForACopy() throws {
        let server = try makeReplica(clock: clock)
        let node = NodeID(rawValue: 42)!
        #expect(try server.checkLease(.init(previous: nil, next: 1), node: node, now: 0) == .accepted)
        // 1 → 2 is on its way; 2 → 3, sent behind it, arrives first.
        #expect(try server.checkLease(.init(previous: 2, next: 3, after: 1), node: node, now: 0) == .outOfOrder)
        #expect(try !server.isDuplicated(node))
        #expect(try server.checkLease(.init(previous: 1, next: 2), node: node, now: 0) == .accepted)
        #expect(try server.checkLease(.init(previous: 2, next: 3, after: 1), node: node, now: 0) == .accepted)
        // A request behind one from a lease the server never had: a copy of the node.
        #expect(try server.checkLease(.init(previous: 8, next: 9, after: 7), node: node, now: 0) == .duplicate)
        #expect(try server.isDuplicated(node))
        // A first request behind another (the server knows nothing of the node): out of order.
        let other = NodeID(rawValue: 43)!
        #expect(try server.checkLease(.init(previous: 5, next: 6, after: 4), node: other, now: 0) == .outOfOrder)
        // The wire carries `after`.
        var request = SyncRequest(node: node, clockMillis: 1)
        request.lease = .init(previous: 2, next: 3, after: 1)
        #expect(try SyncRequest(decoding: request.encoded()).lease == request.lease)
    }
}

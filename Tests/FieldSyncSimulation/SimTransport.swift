import SyncCore
import Synchronization

/// A simulated link from a client to a ``SyncService``, through the real encoding.
///
/// Its faults come from a generator seeded by the sync event, drawn once per exchange in exchange order
/// (the session has at most one exchange in flight): the same seed meets the same faults, whatever the
/// threads do. Per exchange, at `rate` percent: the request is lost; the answer is lost after the server
/// committed; the request arrives twice; a stale copy of an earlier request of this link arrives first;
/// the client dies after the server committed; or the client dies while applying the answer (mid-batch:
/// the apply's transaction is rolled back from inside, after the merge wrote its rows).
final class SimTransport: SyncTransport {
    let service: SyncService
    /// The server's wall clock.
    let clock: any PhysicalClock
    let principal: Principal
    let crashes: SimCrashPlan
    let earlier: SimRequestLog
    private struct State {
        var random: SplitMix64
        var rate: Int
        var up: Bool
        var crashed = false
        var answered = 0
        var faults: [String] = []
    }
    private let state: Mutex<State>

    init(
        service: SyncService, clock: any PhysicalClock, principal: Principal, crashes: SimCrashPlan,
        earlier: SimRequestLog, faults: UInt64, rate: Int, up: Bool
    ) {
        self.service = service
        self.clock = clock
        self.principal = principal
        self.crashes = crashes
        self.earlier = earlier
        state = Mutex(State(random: SplitMix64(seed: faults), rate: faults == 0 ? 0 : rate, up: up))
    }

    enum Decision { case deliver, loseRequest, loseResponse, duplicate, stale, crashAfterCommit, crashInApply }

    /// Whether the client crashed during this sync (the world restarts it).
    var crashed: Bool { state.withLock { $0.crashed } }
    var faults: [String] { state.withLock { $0.faults } }

    func exchange(_ body: SyncRequestBody) throws -> SyncExchange {
        let (decision, stale) = try state.withLock { state throws -> (Decision, SyncRequestBody?) in
            guard state.up else { throw SimFault.unreachable }
            guard !state.crashed else { throw SimFault.clientCrashed }
            guard state.rate > 0, Int.random(in: 0..<100, using: &state.random) < state.rate else {
                return (.deliver, nil)
            }
            let decisions: [Decision] = [
                .loseRequest, .loseResponse, .duplicate, .stale, .crashAfterCommit, .crashInApply,
            ]
            let decision = decisions[Int.random(in: 0..<decisions.count, using: &state.random)]
            state.faults.append("\(decision)")
            if decision == .crashAfterCommit || decision == .crashInApply { state.crashed = true }
            let pick = UInt64.random(in: 0...UInt64.max, using: &state.random)
            return (decision, decision == .stale ? earlier.pick(pick) : nil)
        }
        earlier.append(body)
        if decision == .loseRequest { throw SimFault.requestLost }
        if let stale { _ = try? handle(stale) }
        var response = try handle(body)
        switch decision {
        case .duplicate: response = try handle(body)
        case .loseResponse: throw SimFault.responseLost
        case .crashAfterCommit: throw SimFault.clientCrashed
        default: break
        }
        // The session applies each answer in order: the n-th answer is the n-th apply.
        let answered = state.withLock { state -> Int in
            state.answered += 1
            return state.answered
        }
        if decision == .crashInApply { crashes.crash(atApply: answered) }
        return response
    }

    private func handle(_ body: SyncRequestBody) throws -> SyncExchange {
        let json = try body.json()
        let request = try SyncRequest(decoding: json)
        // The server's own wall clock, as `sync-server` answers with.
        let now = Int64(clock.nowMillis())
        do {
            let bytes = try service.handleWaiting(request, principal: principal, now: now).encoded()
            return SyncExchange(
                response: try SyncResponse(decoding: bytes), bytesSent: body.bytes.count, bytesReceived: bytes.count)
        } catch let error as SyncError {
            // What the HTTP server answers: a problem document (409 for clocks and duplicated nodes).
            let status = error.code == .clockDrift || error.code == .duplicateNode ? 409 : 422
            throw Problem(error, status: status, title: error.code.rawValue, serverClockMillis: now)
        }
    }
}

/// The last requests a client sent on its link, for stale copies that arrive late.
final class SimRequestLog: Sendable {
    private let bodies = Mutex<[SyncRequestBody]>([])

    func append(_ body: SyncRequestBody) {
        bodies.withLock {
            $0.append(body)
            if $0.count > 8 { $0.removeFirst() }
        }
    }

    func pick(_ random: UInt64) -> SyncRequestBody? {
        bodies.withLock { $0.isEmpty ? nil : $0[Int(random % UInt64($0.count))] }
    }
}

/// Makes a client's n-th apply of a sync die before it commits (see ``ReplicaConfiguration``'s hook).
final class SimCrashPlan: Sendable {
    private let plan = Mutex<(applies: Int, target: Int?)>((0, nil))

    /// Starts a sync: no crash planned.
    func reset() { plan.withLock { $0 = (0, nil) } }

    func crash(atApply index: Int) { plan.withLock { $0.target = index } }

    /// The hook: called by each apply of the client's replica, in order.
    func willCommit(peer: String) throws {
        guard peer == SimWorld.upstream else { return }
        let dies = plan.withLock { plan -> Bool in
            plan.applies += 1
            return plan.applies == plan.target
        }
        if dies { throw SimFault.clientCrashed }
    }
}

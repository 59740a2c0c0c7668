import SyncCore
import Synchronization
import Testing

/// The decisions of a sync (``SyncSession/StateMachine``), without a replica, a transport or a thread:
/// each test feeds events as the driver would and checks the actions that come back (docs/protocol.md,
/// sections 9–15).
@Suite("Session state machine")
struct SessionStateMachineTests {
    typealias Machine = SyncSession.StateMachine

    // MARK: Leases (section 11)

    @Test func aPendingLeaseMoveIsSettledAloneBeforeThePush() throws {
        var machine = Self.machine()
        let saved = Machine.Saved(
            pushed: FeedCursor(5), leases: .init(current: 1, pending: 2),
            heartbeat: Heartbeat(app: "t", backlog: 10, oldestPendingMillis: 60_000))
        let settle = machine.handle(.loaded(saved))
        #expect(settle.texts == ["send #1"])
        let alone = try #require(settle.requests.first)
        #expect(alone.page == nil && alone.pull == nil && alone.heartbeat == nil)
        #expect(alone.lease == .init(previous: 1, next: 2) && alone.saveFirst == nil, "the same pair, already saved")
        let answered = machine.handle(.answered(1, Self.answer(), sentAt: 0, receivedAt: 0))
        #expect(answered.texts == ["apply"])
        #expect(answered.applies.first?.progress.lease == 2 && answered.applies.first?.batch.isEmpty == true)
        // Only once it is saved does the push start, from the saved position, with a new move of its own.
        #expect(machine.handle(.applied(.success(0))).texts == ["read 5"])
        let push = machine.handle(.read(Self.page(5, 9, records: 4)))
        let first = try #require(push.requests.first)
        #expect(push.texts == ["send #2"])
        #expect(first.lease == .init(previous: 2, next: 101) && first.saveFirst == .init(current: 2, pending: 101))
        #expect(first.pull == .start, "the last page pulls")
        #expect(first.heartbeat?.backlog == 6, "the heartbeat leaves out what this request pushes")
    }

    @Test func twoPendingMovesAreSettledOneByOneInOrder() {
        var machine = Self.machine(window: true)
        let first = machine.handle(.loaded(.init(leases: .init(current: 1, pending: 2, then: 3))))
        #expect(first.requests.map(\.lease) == [.init(previous: 1, next: 2)])
        _ = machine.handle(.answered(1, Self.answer(), sentAt: 0, receivedAt: 0))
        let second = machine.handle(.applied(.success(0)))
        #expect(second.texts == ["send #2"])
        #expect(second.requests.first?.lease == .init(previous: 2, next: 3) && second.requests.first?.page == nil)
        let done = machine.handle(.answered(2, Self.answer(), sentAt: 0, receivedAt: 0))
        #expect(done.applies.first?.progress.lease == 3)
        #expect(machine.handle(.applied(.success(0))).texts == ["read 0"])
        let push = machine.handle(.read(Self.page(0, 3, records: 3)))
        #expect(push.requests.first?.lease == .init(previous: 3, next: 101), "no lease drawn while settling")
    }

    // MARK: The push window (section 11, decision record 0007)

    @Test func aRequestSentBehindThatOvertakesIsSentAgainAfterTheFirstsAnswer() {
        var machine = Self.machine(window: true)
        let (front, behind) = Self.openWindow(&machine, lastPage: false)
        #expect(front.lease == .init(previous: 101, next: 102) && front.pull == nil)
        #expect(behind.lease == .init(previous: 102, next: 103, after: 101), "it names the lease the first moved from")
        #expect(behind.saveFirst == .init(current: 101, pending: 102, then: 103), "both moves saved before it leaves")
        // The request behind reaches the server first: refused, and nothing is sent before the first's answer.
        #expect(machine.handle(.failed(behind.id, Self.outOfOrder, deviceClock: 0)).isEmpty)
        let answered = machine.handle(
            .answered(front.id, Self.answer(pushedTo: 20, records: 10), sentAt: 0, receivedAt: 0))
        #expect(answered.texts == ["send #3 again", "apply"], "again before the apply, and none behind it")
        #expect(machine.handle(.applied(.success(0))).texts == ["progress"])
        // Its answer moves on as usual: the next page, and one behind it.
        let next = machine.handle(
            .answered(behind.id, Self.answer(pushedTo: 30, records: 10), sentAt: 0, receivedAt: 0))
        #expect(next.texts == ["read 30", "apply"])
        #expect(machine.summary.pushed == 30)
    }

    @Test func aLostAnswerIsAcknowledgedByTheRequestBehindIt() {
        var machine = Self.machine(window: true)
        let (front, behind) = Self.openWindow(&machine, lastPage: true)
        #expect(behind.pull == .start, "the last page pulls, also behind")
        // The first answer is lost; the request behind it was accepted: so was the first one.
        #expect(machine.handle(.failed(front.id, Self.lost, deviceClock: 0)).isEmpty, "waits for the one behind")
        let lost = machine.handle(
            .answered(behind.id, Self.answer(pushedTo: 30, records: 10), sentAt: 0, receivedAt: 0))
        #expect(lost.texts == ["apply"])
        #expect(lost.applies.first?.progress.pushed == FeedCursor(20) && lost.applies.first?.progress.lease == 102)
        #expect(machine.summary.pushed == 20)
        // Then the answer behind it is taken: the sync goes on (here, it ends).
        let behindAnswer = machine.handle(.applied(.success(0)))
        #expect(behindAnswer.texts == ["progress", "apply"])
        #expect(behindAnswer.applies.first?.progress.pushed == FeedCursor(30))
        #expect(behindAnswer.applies.first?.progress.lease == 103)
        #expect(machine.handle(.applied(.success(0))).texts == ["progress", "finish"])
        #expect(machine.summary.pushed == 30 && machine.summary.roundTrips == 2)
    }

    @Test func aLostAnswerWithTheRequestBehindRefusedEndsWithTheFirstsError() {
        var machine = Self.machine(window: true)
        let (front, behind) = Self.openWindow(&machine, lastPage: false)
        #expect(machine.handle(.failed(front.id, Self.lost, deviceClock: 0)).isEmpty)
        let end = machine.handle(.failed(behind.id, Self.outOfOrder, deviceClock: 0))
        #expect(end.texts == ["fail lost"])
    }

    @Test func withoutTheWindowOneRequestIsOutAtATime() {
        var machine = Self.machine(window: false)
        _ = machine.handle(.loaded(.init(leases: .init(current: 1))))
        _ = machine.handle(.read(Self.page(0, 10, records: 10, more: true)))
        let next = machine.handle(.answered(1, Self.answer(pushedTo: 10, records: 10), sentAt: 0, receivedAt: 0))
        #expect(next.texts == ["read 10", "apply"])
        #expect(machine.handle(.read(Self.page(10, 20, records: 10, more: true))).texts == ["send #2"])
    }

    // MARK: Clock repair (section 13)

    @Test(arguments: [("clock-ahead", -7_200_000), ("clock-behind", 31_536_000_000)])
    func aWrongClockIsCorrectedAndThePendingStampsRepaired(cause: String, offset: Int64) {
        var machine = Self.machine()
        let request = Self.firstPush(&machine)
        let server: Int64 = 1_764_000_000_000
        let device = UInt64(server - offset)
        let refused = machine.handle(
            .failed(request.id, Self.clockDrift(cause, offset, server: server), deviceClock: device))
        #expect(refused.texts == ["clock \(offset)", "repair \(offset)"])
        #expect(machine.handle(.repaired(stamps: 3)).texts == ["load with heartbeat"])
        #expect(machine.summary.repairedStamps == 3 && machine.summary.repairOffsetMillis == offset)
        // The refused push moved no lease: its pair is settled alone, stamped with the corrected clock.
        let again = machine.handle(.loaded(.init(leases: .init(current: 1, pending: 101))))
        #expect(again.requests.first?.page == nil && again.requests.first?.clockOffset == offset)
    }

    @Test func stampsAheadRepairTheStampsAndLeaveTheClockAlone() {
        var machine = Self.machine()
        let request = Self.firstPush(&machine)
        let problem = Self.clockDrift("stamps-ahead", -3_600_000, server: 1_764_000_000_000)
        let refused = machine.handle(.failed(request.id, problem, deviceClock: 1_764_000_000_000))
        #expect(refused.texts == ["repair -3600000"])
        #expect(machine.handle(.repaired(stamps: 2)).texts == ["load with heartbeat"])
        #expect(machine.clockOffset == 0)
        // The same refusal again, and nothing moves: the same request would be refused again.
        _ = machine.handle(.loaded(.init(leases: .init(current: 1))))
        _ = machine.handle(.read(Self.page(0, 3, records: 3)))
        _ = machine.handle(.failed(2, problem, deviceClock: 1_764_000_000_000))
        #expect(machine.handle(.repaired(stamps: 0)).texts == ["fail clock-drift"])
    }

    @Test func aRelayedStampAheadIsThrownWithoutARepair() {
        var machine = Self.machine()
        let request = Self.firstPush(&machine)
        let problem = Self.clockDrift("relayed-stamps-ahead", -900_000, server: 1_764_000_000_000)
        #expect(
            machine.handle(.failed(request.id, problem, deviceClock: 1_764_000_000_000)).texts == ["fail clock-drift"])
    }

    @Test(arguments: [nil, "a-cause-from-a-newer-server"])
    func withoutAKnownCauseTheClockIsSetFromTheServersAndTheStampsRepaired(cause: String?) {
        var machine = Self.machine()
        let request = Self.firstPush(&machine)
        let server: Int64 = 1_764_000_000_000
        let problem = Problem(
            code: .clockDrift, title: "t", status: 409, detail: "d", offsetMillis: -60_000_000,
            serverClockMillis: server, cause: cause)
        let refused = machine.handle(.failed(request.id, problem, deviceClock: UInt64(server + 60_000_000)))
        #expect(refused.texts == ["clock -60000000", "repair -60000000"])
        #expect(machine.handle(.repaired(stamps: 0)).texts == ["load with heartbeat"], "the clock was corrected")
    }

    @Test func atMostThreeRepairsInOneSync() {
        var machine = Self.machine()
        let problem = Self.clockDrift("stamps-ahead", -3_600_000, server: 1_764_000_000_000)
        var ends: [String] = []
        for attempt in 1...4 {
            _ = machine.handle(.loaded(.init(leases: .init(current: 1))))
            let id = machine.handle(.read(Self.page(0, 3, records: 3))).requests[0].id
            ends = machine.handle(.failed(id, problem, deviceClock: 1_764_000_000_000)).texts
            if attempt < 4 {
                #expect(ends == ["repair -3600000"], "repair \(attempt)")
                #expect(machine.handle(.repaired(stamps: 1)).texts == ["load with heartbeat"])
            }
        }
        #expect(ends == ["fail clock-drift"])
        #expect(machine.summary.repairedStamps == 3)
    }

    @Test func aServerClockAheadByMoreThanTheNoiseCorrectsTheClock() {
        var machine = Self.machine()
        let request = Self.firstPush(&machine)
        // 1.5 s off: noise. Then 4 s off: corrected (docs/protocol.md: test_clock_exchange).
        let quiet = machine.handle(
            .answered(request.id, Self.answer(pushedTo: 3, records: 3, clock: 1_500), sentAt: 0, receivedAt: 0))
        #expect(!quiet.texts.contains { $0.hasPrefix("clock") })
        var again = Self.machine()
        let second = Self.firstPush(&again)
        let corrected = again.handle(
            .answered(second.id, Self.answer(pushedTo: 3, records: 3, clock: 4_000), sentAt: 0, receivedAt: 0))
        #expect(corrected.texts.first == "clock 4000" && again.clockOffset == 4_000)
        // A slow round trip hides as much: 4 s off with 10 s on the way is noise.
        var slow = Self.machine()
        let third = Self.firstPush(&slow)
        let answer = Self.answer(pushedTo: 3, records: 3, clock: 9_000)
        #expect(!slow.handle(.answered(third.id, answer, sentAt: 0, receivedAt: 10_000)).texts.contains("clock 4000"))
    }

    /// A server clock at the very end of the range (a broken or hostile server) is taken as any other
    /// reading: no trap on its magnitude, the answer applied.
    @Test(arguments: [Int64.min, Int64.max])
    func aServerClockAtTheEndOfTheRangeDoesNotStopTheSync(clock: Int64) {
        var machine = Self.machine()
        let request = Self.firstPush(&machine)
        let actions = machine.handle(
            .answered(request.id, Self.answer(pushedTo: 3, records: 3, clock: clock), sentAt: 0, receivedAt: 0))
        #expect(actions.texts.contains("apply"))
    }

    // MARK: Refused records (section 14)

    @Test func refusedRecordsInThePushAndInThePullAreSetAsideWithTheAnswer() throws {
        var machine = Self.machine()
        let request = Self.firstPush(&machine, records: 5)
        let mine = Refusal(collection: "deliveries", id: "D1", code: .invalidValue, field: "item", detail: "no")
        let upstream = Refusal(collection: "deliveries", id: "D2", code: .outOfScope, detail: "moved")
        let left = [RecordRef(collection: "deliveries", id: "D2"), RecordRef(collection: "families", id: "F1")]
        let response = SyncResponse(
            node: Self.server, clockMillis: 0,
            pushed: .init(to: FeedCursor(5), records: 5, conflicts: 0, refused: [mine]),
            pull: .init(batch: Self.batch(2), cursor: FeedCursor(12), more: false, left: left, refused: [upstream]))
        let answered = machine.handle(.answered(request.id, SyncExchange(response: response), sentAt: 0, receivedAt: 0))
        let apply = try #require(answered.applies.first)
        #expect(answered.texts == ["apply"])
        #expect(apply.progress.refused == [mine, upstream] && apply.progress.left == left)
        #expect(apply.progress.pushed == FeedCursor(5) && apply.progress.pulled == FeedCursor(12))
        #expect(apply.batch.recordCount == 2 && apply.sender == Self.server)
        #expect(machine.handle(.applied(.success(1))).texts == ["progress", "finish"])
        #expect(machine.summary.refused == 2 && machine.summary.pushed == 5 && machine.summary.pulled == 2)
        #expect(machine.summary.conflicts == 1)
    }

    // MARK: A new node id (section 15)

    @Test(arguments: ["duplicate-node", "node-taken"])
    func aNodeIDTakenElsewhereIsReplacedOnceAndTheSyncGoesOn(code: String) {
        var machine = Self.machine()
        let request = Self.firstPush(&machine)
        let problem = Problem(code: .init(code), title: "t", status: 409, detail: "d")
        #expect(machine.handle(.failed(request.id, problem, deviceClock: 0)).texts == ["new node id"])
        let node = NodeID(rawValue: 77)!
        #expect(machine.handle(.tookNewNodeID(node, restamped: 4)).texts == ["load"], "the same heartbeat")
        #expect(machine.summary.newNodeID == node && machine.summary.restampedForNewNode == 4)
        // Leases forgotten: the first request starts a new chain, and says which id this node had.
        _ = machine.handle(.loaded(.init(rekeyedFrom: NodeID(rawValue: 5))))
        let first = machine.handle(.read(Self.page(0, 3, records: 3))).requests[0]
        #expect(first.lease == .init(previous: nil, next: 102) && first.rekeyedFrom == NodeID(rawValue: 5))
        #expect(first.heartbeat?.app == "t", "sent again with the first request")
        // Twice in one sync: stop and report.
        #expect(machine.handle(.failed(first.id, problem, deviceClock: 0)).texts == ["fail \(code)"])
    }

    // MARK: When to stop (section 9)

    @Test func aSyncWithNothingToDoIsOneRequest() {
        var machine = Self.machine()
        #expect(machine.start().texts == ["load with heartbeat"])
        let saved = Machine.Saved(pushed: FeedCursor(8), pulled: FeedCursor(40), heartbeat: Heartbeat(app: "t"))
        #expect(machine.handle(.loaded(saved)).texts == ["read 8"])
        let request = machine.handle(.read(Self.page(8, 8, records: 0))).requests[0]
        #expect(request.pull == FeedCursor(40) && request.heartbeat?.backlog == 0)
        let response = SyncResponse(
            node: Self.server, clockMillis: 0, pull: .init(batch: ChangeBatch(), cursor: FeedCursor(40), more: false))
        let answered = machine.handle(.answered(request.id, SyncExchange(response: response), sentAt: 0, receivedAt: 0))
        #expect(answered.applies.first?.progress.pushed == FeedCursor(8), "nothing pushed: the position stays")
        #expect(machine.handle(.applied(.success(0))).texts == ["progress", "finish"])
        #expect(machine.summary.roundTrips == 1)
    }

    @Test func pagesArePushedThenPulledWhileTheServerHasMore() {
        var machine = Self.machine()
        _ = machine.handle(.loaded(.init(leases: .init(current: 1), heartbeat: Heartbeat(app: "t", backlog: 15))))
        let first = machine.handle(.read(Self.page(0, 10, records: 10, more: true))).requests[0]
        #expect(first.pull == nil, "a page with pages after it pulls nothing")
        let more = machine.handle(.answered(first.id, Self.answer(pushedTo: 10, records: 10), sentAt: 0, receivedAt: 0))
        #expect(more.texts == ["read 10", "apply"])
        let last = machine.handle(.read(Self.page(10, 15, records: 5))).requests[0]
        #expect(last.pull == .start && last.heartbeat == nil && last.lease == .init(previous: 101, next: 102))
        #expect(machine.handle(.applied(.success(0))).texts == ["progress"])
        // The pull has more: the next request pulls alone, from the cursor this answer gives.
        let pulled = Self.answer(pushedTo: 15, records: 5, pull: (cursor: 20, records: 4, more: true))
        let next = machine.handle(.answered(last.id, pulled, sentAt: 0, receivedAt: 0))
        #expect(next.texts == ["read 15", "apply"])
        let pull = machine.handle(.read(Self.page(15, 15, records: 0))).requests[0]
        #expect(pull.pull == FeedCursor(20))
        #expect(machine.handle(.applied(.success(0))).texts == ["progress"])
        let end = machine.handle(
            .answered(pull.id, Self.answer(pull: (cursor: 22, records: 2, more: false)), sentAt: 0, receivedAt: 0))
        #expect(end.texts == ["apply"], "drained: nothing more goes out")
        #expect(machine.handle(.applied(.success(0))).texts == ["progress", "finish"])
        #expect(machine.summary.pushed == 15 && machine.summary.pulled == 6 && machine.summary.roundTrips == 3)
    }

    @Test func aFailedApplyComesBeforeTheRefusalOfTheRequestOut() {
        var machine = Self.machine()
        let first = Self.firstPush(&machine, records: 10, more: true)
        _ = machine.handle(.answered(first.id, Self.answer(pushedTo: 10, records: 10), sentAt: 0, receivedAt: 0))
        let second = machine.handle(.read(Self.page(10, 12, records: 2))).requests[0]
        // The answer's apply fails while the next request is out: the sync ends once that request is back,
        // with the apply's error, even if the server refused the request for its clock (no repair).
        #expect(machine.handle(.applied(.failure(Self.lost))).isEmpty)
        let problem = Self.clockDrift("clock-ahead", -7_200_000, server: 1_764_000_000_000)
        #expect(machine.handle(.failed(second.id, problem, deviceClock: 0)).texts == ["fail lost"])
    }

    @Test func anotherRefusalEndsTheSync() {
        var machine = Self.machine()
        let request = Self.firstPush(&machine)
        let problem = Problem(code: "unauthorized", title: "t", status: 401, detail: "revoked")
        #expect(machine.handle(.failed(request.id, problem, deviceClock: 0)).texts == ["fail unauthorized"])
    }
}

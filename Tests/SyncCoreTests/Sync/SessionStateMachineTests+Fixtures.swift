import SyncCore
import Synchronization
import Testing

/// Draws leases 101, 102, … in turn.
final class CountingLeases: Sendable {
    private let last = Mutex<UInt64>(100)

    func next() -> UInt64 {
        last.withLock { last in
            last += 1
            return last
        }
    }
}

struct LostAnswer: Error, CustomStringConvertible {
    var description: String { "lost" }
}

extension SessionStateMachineTests {
    static let server = NodeID(rawValue: 9)!
    static let lost = LostAnswer()
    static let outOfOrder = Problem(code: .outOfOrder, title: "t", status: 409, detail: "overtook")

    static func machine(window: Bool = false, clockOffset: Int64 = 0) -> Machine {
        let leases = CountingLeases()
        return Machine(
            configuration: .init(allowsConcurrentExchanges: window, makeLease: { leases.next() }),
            clockOffset: clockOffset)
    }

    static func page(_ start: Int64, _ end: Int64, records: Int, more: Bool = false) -> Machine.PushPage {
        Machine.PushPage(start: FeedCursor(start), end: FeedCursor(end), records: records, hasMore: more)
    }

    /// `count` records of one collection.
    static func batch(_ count: Int) -> ChangeBatch {
        let stamp = Stamp(hlc: HLCTimestamp(millis: 1, counter: 0), node: server)
        let records = (0..<count).map { RecordChange(id: "R\($0)", stamp: stamp, cells: [Cell(field: 0, value: 1)]) }
        return ChangeBatch([CollectionChanges(name: "deliveries", fields: ["quantity"], records: records)])
    }

    /// A `200`: the push acknowledged up to `pushedTo`, and a pulled page if any.
    static func answer(
        pushedTo: Int64? = nil, records: Int = 0, pull: (cursor: Int64, records: Int, more: Bool)? = nil,
        clock: Int64 = 0
    ) -> SyncExchange {
        SyncExchange(
            response: SyncResponse(
                node: server, clockMillis: clock,
                pushed: pushedTo.map { .init(to: FeedCursor($0), records: records, conflicts: 0) },
                pull: pull.map { .init(batch: batch($0.records), cursor: FeedCursor($0.cursor), more: $0.more) }))
    }

    static func clockDrift(_ cause: String, _ offset: Int64, server: Int64) -> Problem {
        Problem(
            code: .clockDrift, title: "Clock out of bounds", status: 409, detail: "off", offsetMillis: offset,
            serverClockMillis: server, cause: cause)
    }

    /// Loads a node holding lease 1 and sends its first push (lease 1 → 101): one page of `records`.
    static func firstPush(_ machine: inout Machine, records: Int = 3, more: Bool = false) -> Machine.Request {
        _ = machine.handle(.loaded(.init(leases: .init(current: 1), heartbeat: Heartbeat(app: "t", backlog: 3))))
        return machine.handle(.read(page(0, Int64(records), records: records, more: more))).requests[0]
    }

    /// Pushes a first page of 10 (answered), then sends the second (lease 101 → 102) and, behind it before
    /// its answer, the third (102 → 103 after 101), the last page if `lastPage`; returns those two.
    static func openWindow(
        _ machine: inout Machine, lastPage: Bool
    ) -> (front: Machine.Request, behind: Machine.Request) {
        _ = machine.handle(.loaded(.init(leases: .init(current: 1))))
        let first = machine.handle(.read(page(0, 10, records: 10, more: true)))
        #expect(first.texts == ["send #1"], "the first push goes alone")
        let answered = machine.handle(.answered(1, answer(pushedTo: 10, records: 10), sentAt: 0, receivedAt: 0))
        #expect(answered.texts == ["read 10", "apply"])
        let front = machine.handle(.read(page(10, 20, records: 10, more: true)))
        #expect(front.texts == ["send #2", "read 20"])
        let behind = machine.handle(.read(page(20, 30, records: 10, more: !lastPage)))
        #expect(behind.texts == ["send #3"])
        #expect(machine.handle(.applied(.success(0))).texts == ["progress"])
        return (front.requests[0], behind.requests[0])
    }
}

extension Array where Element == SyncSession.StateMachine.Action {
    var texts: [String] { map(\.text) }

    var requests: [SyncSession.StateMachine.Request] {
        compactMap { action in
            guard case .send(let request) = action else { return nil }
            return request
        }
    }

    var applies: [SyncSession.StateMachine.Apply] {
        compactMap { action in
            guard case .apply(let apply) = action else { return nil }
            return apply
        }
    }
}

extension SyncSession.StateMachine.Action {
    /// The action in a few words, to compare lists of actions.
    var text: String {
        switch self {
        case .load(let heartbeat): heartbeat ? "load with heartbeat" : "load"
        case .read(let cursor): "read \(cursor)"
        case .send(let request): "send #\(request.id)"
        case .sendAgain(let id): "send #\(id) again"
        case .apply: "apply"
        case .saveClockOffset(let offset): "clock \(offset)"
        case .repairStamps(let offset): "repair \(offset)"
        case .takeNewNodeID: "new node id"
        case .progress: "progress"
        case .finish: "finish"
        case .fail(let error): "fail \((error as? Problem)?.code.rawValue ?? "\(error)")"
        }
    }
}

/// How a sync ends or starts again: a request or an apply failed, or the server refused the request
/// (docs/protocol.md, sections 13, 15 and 17).
extension SyncSession.StateMachine {
    mutating func stop(_ error: any Error, byApply: Bool, deviceClock: UInt64?) {
        // The first error stands, but an apply's comes first.
        if case .stopping(let stop) = phase, stop.byApply || !byApply { return }
        phase = .stopping(Stop(error: error, byApply: byApply, deviceClock: deviceClock))
    }

    /// Nothing is in flight any more: repair the clock, take a new node id, or end the sync.
    mutating func decide(_ stop: Stop) {
        if let problem = stop.error as? Problem {
            if problem.code == .clockDrift, repairs < 3 {
                repairs += 1
                return repair(problem, deviceClock: stop.deviceClock)
            }
            // Another copy of this node (a restored backup) syncs with the server, or this node's id is
            // another device's there (a replica enrolled again with a new token): take a new id, once.
            if problem.code == .duplicateNode || problem.code == .nodeTaken, !rekeyed {
                rekeyed = true
                phase = .takingNewNodeID
                return emit(.takeNewNodeID)
            }
        }
        end(failing: stop.error)
    }

    /// `clock-drift` (section 13): act on what the server found off (``ClockDriftCause``), then move the
    /// pending stamps by the offset.
    private mutating func repair(_ problem: Problem, deviceClock: UInt64?) {
        let cause = Self.knownCause(problem)
        // Another node's stamp, relayed: nothing of ours to repair (decision record 0006).
        if cause == .relayedStampsAhead { return end(failing: problem) }
        // The clock is corrected, unless the server found it right (a clock set right since the stamps were
        // made: moved by the offset, it would be wrong the other way, and the next request refused).
        if cause != .stampsAhead, let server = problem.serverClockMillis, let deviceClock {
            let now = Int64(clamping: Replica.corrected(deviceClock, by: clockOffset))
            learnClock(server: server, sentAt: now, receivedAt: now)
        }
        guard let offset = problem.offsetMillis, offset != .min, offset != .max else {
            return end(failing: problem)
        }
        phase = .repairing(problem, offset: offset)
        emit(.repairStamps(offsetMillis: offset))
    }

    mutating func repaired(_ stamps: Int) {
        guard case .repairing(let problem, let offset) = phase else { return }
        summary.repairedStamps += stamps
        summary.repairOffsetMillis = summary.repairOffsetMillis &+ offset
        // Nothing moved: only a corrected clock can make the next request pass.
        if stamps == 0, !Self.correctsClock(problem) { return end(failing: problem) }
        // The refused request recorded nothing: start again, the heartbeat with the new correction.
        phase = .loading
        emit(.load(heartbeat: true))
    }

    mutating func tookNewNodeID(_ node: NodeID, restamped: Int) {
        guard case .takingNewNodeID = phase else { return }
        summary.newNodeID = node
        summary.restampedForNewNode = restamped
        phase = .loading
        emit(.load(heartbeat: false))
    }

    private mutating func end(failing error: any Error) {
        phase = .ended
        emit(.fail(error))
    }

    /// The server's clock tells ours how wrong it is (section 13): correct the wall clock for new stamps.
    mutating func learnClock(server: Int64, sentAt: Int64, receivedAt: Int64) {
        guard
            let corrected = Self.correctedOffset(
                clockOffset, server: server, sentAt: sentAt, receivedAt: receivedAt,
                tolerance: configuration.clockTolerance)
        else { return }
        clockOffset = corrected
        emit(.saveClockOffset(corrected))
    }

    // MARK: Clock rules (section 13)

    /// The clock exchange (docs/protocol.md, section 13): with `sent` and `received` the corrected times a
    /// request left and its answer came, `residual = server − (sent + received) / 2`. A residual over the
    /// tolerance and over half the round trip corrects `offset` by it; a smaller one is network noise (nil).
    static func correctedOffset(
        _ offset: Int64, server: Int64, sentAt: Int64, receivedAt: Int64, tolerance: Int64
    ) -> Int64? {
        let midpoint = sentAt / 2 + receivedAt / 2
        let residual = server.subtractingReportingOverflow(midpoint)
        let noise = max(tolerance, (receivedAt &- sentAt) / 2)
        guard !residual.overflow, residual.partialValue.magnitude > UInt64(clamping: noise) else { return nil }
        return offset.addingReportingOverflow(residual.partialValue).partialValue
    }

    /// The cause of a `clock-drift`, if this version knows it: one it does not know is no cause (the rules of
    /// a server that sends none).
    static func knownCause(_ problem: Problem) -> ClockDriftCause? {
        problem.clockDriftCause.flatMap { cause in
            [ClockDriftCause.clockAhead, .clockBehind, .stampsAhead, .relayedStampsAhead].contains(cause) ? cause : nil
        }
    }

    /// Whether acting on a `clock-drift` corrected this node's clock: then the next request may pass though no
    /// stamp moved. With `stamps-ahead` the clock was right and is left alone.
    static func correctsClock(_ problem: Problem) -> Bool {
        let cause = knownCause(problem)
        return cause == .clockAhead || cause == .clockBehind || (cause == nil && problem.serverClockMillis != nil)
    }

    /// `heartbeat` as it goes with a request pushing `records`: the server records it once that push is
    /// applied, so its backlog leaves them out (a device that sent everything reports none).
    static func heartbeat(_ heartbeat: Heartbeat?, sentWith records: Int) -> Heartbeat? {
        guard var heartbeat else { return nil }
        heartbeat.backlog = max(0, heartbeat.backlog - Int64(records))
        if heartbeat.backlog == 0 { heartbeat.oldestPendingMillis = nil }
        return heartbeat
    }
}

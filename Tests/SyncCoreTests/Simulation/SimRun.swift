import SyncCore

/// Runs a scenario to the end, heals it, and checks it: the outcome of one seed.
enum SimRun {
    struct Outcome {
        /// What went wrong, one line each; empty when the run is sound.
        var violations: [String]
        var faults = 0
        var crashes = 0
        var restores = 0
        var exchanges = 0

        /// The kind of the first violation ("diverged", "lost write"…): the shrinker keeps it.
        var kind: String? { violations.first.map { String($0.prefix { $0 != ":" }) } }
    }

    static func run(_ scenario: SimScenario) -> Outcome {
        do {
            let world = try SimWorld(scenario)
            for event in scenario.events { try world.run(event) }
            let errors = try world.heal()
            var violations = errors.map { "sync failed after healing: \($0)" }
            if violations.isEmpty { violations = try SimCheck.violations(world) }
            return Outcome(
                violations: violations, faults: world.faultsMet, crashes: world.crashesMet, restores: world.restores)
        } catch {
            return Outcome(violations: ["harness error: \(error)"])
        }
    }

    /// The shortest trace found that fails the same way (delta debugging: drop chunks, then single
    /// events, while the run still fails), within `budget` replays.
    static func shrink(_ scenario: SimScenario, kind: String?, budget: Int = 400) -> (SimScenario, Outcome) {
        var current = scenario
        var outcome = run(scenario)
        var replays = 0
        func fails(_ events: [SimEvent]) -> Outcome? {
            replays += 1
            var candidate = current
            candidate.events = events
            let result = run(candidate)
            return result.kind != nil && result.kind == kind ? result : nil
        }
        var chunks = 2
        while current.events.count > 1, replays < budget {
            let size = max(1, (current.events.count + chunks - 1) / chunks)
            var reduced = false
            var start = 0
            while start < current.events.count, replays < budget {
                var events = current.events
                events.removeSubrange(start..<min(start + size, events.count))
                if let result = fails(events) {
                    current.events = events
                    outcome = result
                    reduced = true
                } else {
                    start += size
                }
            }
            if reduced {
                chunks = max(2, chunks - 1)
            } else if size == 1 {
                break
            } else {
                chunks = min(current.events.count, chunks * 2)
            }
        }
        return (current, outcome)
    }
}

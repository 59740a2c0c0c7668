import SyncCore

/// Runs a scenario to the end, heals it, and checks it: the outcome of one seed.
package enum SimRun {
    package struct Outcome: Sendable {
        /// What went wrong, one line each; empty when the run is sound.
        package var violations: [String]
        package var faults = 0
        package var crashes = 0
        package var restores = 0
        package var exchanges = 0
        /// Recharge codes handed out by volunteers, and those of them a server refused (voucher runs).
        package var handOuts = 0
        package var refusedHandOuts = 0

        /// The kind of the first violation ("diverged", "lost write"…): the shrinker keeps it.
        package var kind: String? { violations.first.map { String($0.prefix { $0 != ":" }) } }
    }

    /// Central's store from `central` (an SQLite replica by default).
    package static func run(
        _ scenario: SimScenario, central: SimCentralFactory = SimReplicaCentral.factory
    ) -> Outcome {
        do {
            let world = try SimWorld(scenario, central: central)
            for event in scenario.events { try world.run(event) }
            var errors = try world.heal()
            // The admin takes back the codes frozen under a node id no node has any more (a restored
            // backup's), as the report asks, and the world heals again.
            if errors.isEmpty, scenario.vouchers, try world.reclaimFrozen() { errors = try world.heal() }
            var violations = errors.map { "sync failed after healing: \($0)" }
            if violations.isEmpty { violations = try SimCheck.violations(world) }
            if violations.isEmpty, scenario.vouchers { violations = try world.voucherViolations() }
            if SimWorld.tracing, let admin = world.central.replicaForAdmin() {
                for entry in try admin.refusedRecords(status: nil) {
                    print(
                        "  central refused \(entry.refusal.collection)/\(entry.refusal.id) from \(entry.source ?? "?"): \(entry.refusal.detail)"
                    )
                }
                for node in 1..<scenario.nodeCount {
                    for entry in try world.replica(node).refusedRecords(status: nil) {
                        print(
                            "  n\(node) refused \(entry.refusal.collection)/\(entry.refusal.id) stays \(entry.refusal.stays) from \(entry.source ?? "?"): \(entry.refusal.detail)"
                        )
                    }
                }
            }
            return Outcome(
                violations: violations, faults: world.faultsMet, crashes: world.crashesMet, restores: world.restores,
                handOuts: world.vouchers.handOuts.count, refusedHandOuts: world.vouchers.refusedHandOuts)
        } catch {
            return Outcome(violations: ["harness error: \(error)"])
        }
    }

    /// The shortest trace found that fails the same way (delta debugging: drop chunks, then single
    /// events, while the run still fails), within `budget` replays.
    package static func shrink(
        _ scenario: SimScenario, kind: String?, budget: Int = 400,
        central: SimCentralFactory = SimReplicaCentral.factory
    ) -> (SimScenario, Outcome) {
        var current = scenario
        var outcome = run(scenario, central: central)
        var replays = 0
        func fails(_ events: [SimEvent]) -> Outcome? {
            replays += 1
            var candidate = current
            candidate.events = events
            let result = run(candidate, central: central)
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

import FieldDomain
import Foundation
import SyncCore
import Testing

@Suite("Hybrid logical clock")
struct ClockTests {
    @Test func followsThePhysicalClockWhenItIsAhead() {
        var clock = HybridLogicalClock()
        let first = clock.tick(now: 1_000)
        #expect(first == HLCTimestamp(millis: 1_000, counter: 0))
        let second = clock.tick(now: 2_000)
        #expect(second == HLCTimestamp(millis: 2_000, counter: 0))
    }

    @Test func staysMonotonicWhenThePhysicalClockGoesBackwards() {
        var clock = HybridLogicalClock()
        var previous = clock.tick(now: 10_000)
        for now: UInt64 in [9_000, 9_000, 5_000, 10_000, 10_000, 1] {
            let next = clock.tick(now: now)
            #expect(next > previous)
            #expect(next.millis == 10_000, "the clock holds its millisecond while the wall clock is behind")
            previous = next
        }
    }

    @Test func randomWallClocksNeverMakeItGoBackwards() {
        var generator = SeededGenerator(seed: baseSeed)
        var clock = HybridLogicalClock()
        var previous = HLCTimestamp.zero
        for _ in 0..<100_000 {
            let now = UInt64.random(in: 1_000_000...1_000_050, using: &generator)
            let next = clock.tick(now: now)
            #expect(next > previous, "seed \(baseSeed)")
            previous = next
        }
    }

    @Test func counterOverflowCarriesIntoTheNextMillisecond() {
        var clock = HybridLogicalClock(last: HLCTimestamp(millis: 500, counter: UInt16.max - 1))
        let a = clock.tick(now: 100)
        #expect(a == HLCTimestamp(millis: 500, counter: UInt16.max))
        let b = clock.tick(now: 100)
        #expect(b == HLCTimestamp(millis: 501, counter: 0))
        #expect(b > a)
    }

    @Test func observingARemoteStampOrdersLaterStampsAfterIt() throws {
        var clock = HybridLogicalClock()
        _ = clock.tick(now: 1_000)
        let remote = HLCTimestamp(millis: 1_200, counter: 7)
        try clock.observe(remote, now: 1_000)
        #expect(clock.tick(now: 1_000) > remote)
    }

    @Test func refusesAStampTooFarAheadAndDoesNotMove() {
        var clock = HybridLogicalClock(maxDriftMillis: 300_000)
        _ = clock.tick(now: 1_000_000)
        let before = clock.last
        let remote = HLCTimestamp(millis: 1_000_000 + 300_001, counter: 0)
        #expect {
            try clock.observe(remote, now: 1_000_000)
        } throws: { error in
            let error = error as? SyncError
            return error?.code == .clockDrift && error?.clockOffsetMillis == 300_001
        }
        #expect(clock.last == before)
        // At the bound exactly, it is accepted.
        #expect(throws: Never.self) { try clock.observe(HLCTimestamp(millis: 1_300_000, counter: 0), now: 1_000_000) }
    }

    @Test func aStampWithinTheMillisecondItHasSeenIsTakenWhateverTheBound() throws {
        var clock = HybridLogicalClock(maxDriftMillis: 300_000)
        // It saw a stamp 8 min ahead (a relayed one, within twice the bound).
        try clock.observe(HLCTimestamp(millis: 1_480_000, counter: 3), now: 1_000_000, boundMillis: 600_000)
        // Another node ticked after seeing it: same millisecond, a higher counter. Not a wrong clock.
        try clock.observe(HLCTimestamp(millis: 1_480_000, counter: 9), now: 1_000_000)
        #expect(clock.last == HLCTimestamp(millis: 1_480_000, counter: 9))
        // One millisecond further is beyond the bound again: refused, and the clock stays.
        #expect(throws: SyncError.self) {
            try clock.observe(HLCTimestamp(millis: 1_480_001, counter: 0), now: 1_000_000)
        }
        #expect(clock.last == HLCTimestamp(millis: 1_480_000, counter: 9))
    }

    @Test func theStampOrderIsClockThenNode() {
        let early = stamp(1, node: 9)
        let late = stamp(2, node: 1)
        #expect(early < late)
        #expect(stamp(5, node: 1) < stamp(5, node: 2))
        #expect(stamp(5, 1, node: 1) > stamp(5, 0, node: 2))
    }

    @Test func persistsAcrossReopenAndNeverGoesBackwards() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("device.sqlite").path
        let clock = ManualClock()
        var lastStamp: Stamp?
        do {
            let replica = try makeFileReplica(at: path, clock: clock)
            let id = try replica.write { tx in
                try tx.addFamily(NewFamily(city: "Oran", reference: "F-1", headName: "Amina"))
            }
            for _ in 0..<5 { try replica.write { tx in try tx.editFamily(id, ["notes": "n"]) } }
            lastStamp = try replica.stamps("families", id: id)["notes"]
        }
        // The wall clock jumps back a day (a dead battery): the reopened replica still stamps later.
        clock.rewind(86_400_000)
        let reopened = try makeFileReplica(at: path, clock: clock)
        #expect(try reopened.lastTimestamp() == lastStamp?.hlc)
        let id = try reopened.write { tx in
            try tx.addFamily(NewFamily(city: "Oran", reference: "F-2", headName: "Yacine"))
        }
        let newStamp = try #require(try reopened.stamps("families", id: id)["city"])
        #expect(newStamp > lastStamp!)
    }
}

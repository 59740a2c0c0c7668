import FieldDomain
import Foundation
import SyncClient
import SyncCore
import Testing

/// Devices whose clocks are a year wrong (`FIELDSYNC_CLOCK_OFFSET_MS` on the real `field` binary) work
/// offline and sync through a real `sync-server`: the server refuses their stamps with the offset, they
/// repair their pending stamps and sync, nothing is lost, conflicts go to the edit that really came last,
/// and central's devices view shows both clocks as off.
@Suite("Wrong clocks end to end", .serialized)
struct WrongClockTests {
    static let year: Int64 = 365 * 86_400_000

    struct Volunteer {
        let db: String
        var offset: Int64 = 0

        func field(_ arguments: [String]) throws -> CommandResult {
            let process = try FieldProcess(
                arguments + ["--db", db], environment: offset == 0 ? [:] : ["FIELDSYNC_CLOCK_OFFSET_MS": "\(offset)"])
            return process.finish()
        }

        @discardableResult
        func ok(_ arguments: [String]) throws -> CommandResult {
            let result = try field(arguments)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            return result
        }

        func json(_ arguments: [String]) throws -> [String: Any] {
            let result = try ok(arguments + ["--json"])
            return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] ?? [:]
        }
    }

    static func now() -> Int64 { Int64(SystemClock().nowMillis()) }

    /// A JSON number as Int64 (0 when absent).
    static func number(_ value: Any?) -> Int64 { (value as? NSNumber)?.int64Value ?? 0 }

    /// Milliseconds of the stamps (`_hlc`) of a family's deliveries on a replica file.
    static func deliveryStampMillis(_ path: String, family reference: String) throws -> [Int64] {
        try ReplicaFile.open(path).read { db in
            try Int64.fetchAll(
                db,
                sql: """
                    SELECT d."_hlc" >> 16 FROM deliveries d JOIN families f ON f.id = d.family
                    WHERE f.reference = ? ORDER BY d."_hlc"
                    """, arguments: [reference])
        }
    }

    /// The `delivered_at` of a family's deliveries on a replica file.
    static func deliveryTimes(_ path: String, family reference: String) throws -> [Int64] {
        try ReplicaFile.open(path).read { db in
            try Int64.fetchAll(
                db,
                sql: """
                    SELECT d.delivered_at FROM deliveries d JOIN families f ON f.id = d.family
                    WHERE f.reference = ? ORDER BY d.delivered_at
                    """, arguments: [reference])
        }
    }

    @Test func aYearAheadAndAYearBehindRepairTheirStampsAndWinOnlyWhatTheyShould() throws {
        let started = Self.now()
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let central = directory.appendingPathComponent("central.db").path
        let server = try ServerProcess(database: central)
        defer { server.stop() }
        var volunteers: [String: Volunteer] = [:]
        for name in ["rania", "ahead", "behind"] {
            let token = try issueToken(db: central, role: "device", city: "Tunis", name: name, directory: directory)
            let volunteer = Volunteer(db: directory.appendingPathComponent("\(name).db").path)
            try volunteer.ok(["init", "--server", server.url, "--token-file", token.file, "--city", "Tunis"])
            volunteers[name] = volunteer
        }
        let rania = volunteers["rania"]!
        var ahead = volunteers["ahead"]!
        var behind = volunteers["behind"]!

        // Rania (right clock) registers a family; "ahead" gets it while its clock is still right.
        try rania.ok(["family", "add", "--reference", "TUN-1", "--head", "Fatma Ben Ali", "--phone", "20 000 001"])
        try rania.ok(["sync"])
        try ahead.ok(["sync"])

        // "behind" is a phone whose date reset a year back: it works offline before it ever synced.
        behind.offset = -Self.year
        try behind.ok(["family", "add", "--reference", "TUN-B", "--head", "Salma", "--phone", "20 000 002"])
        for item in ["food_pack", "connectivity_pack", "internet_recharge"] {
            try behind.ok(["deliver", "--family", "TUN-B", "--item", item, "--campaign", "w"])
        }
        try behind.ok(["family", "edit", "TUN-B", "--size", "4"])
        // Its first sync is refused (client clock a year behind), repaired by +1 year, and goes through.
        let behindSync = try behind.json(["sync"])
        #expect(Self.number(behindSync["repaired_stamps"]) >= 5, "\(behindSync)")
        #expect(abs(Self.number(behindSync["clock_offset_ms"]) - Self.year) < 60_000, "\(behindSync)")

        // "ahead"'s clock jumps a year ahead; offline, it logs and edits Rania's family.
        ahead.offset = Self.year
        try ahead.ok(["family", "add", "--reference", "TUN-A", "--head", "Amel", "--phone", "20 000 003"])
        for item in ["food_pack", "connectivity_pack", "internet_recharge"] {
            try ahead.ok(["deliver", "--family", "TUN-A", "--item", item, "--campaign", "w"])
        }
        try ahead.ok(["family", "edit", "TUN-1", "--phone", "20 111 111"])
        usleep(50_000)
        // Later, really: Rania edits the same phone and the household size; she syncs first.
        try rania.ok(["family", "edit", "TUN-1", "--phone", "20 222 222", "--size", "7"])
        try rania.ok(["sync"])
        // The far-future push is refused with the offset, repaired by -1 year, and synced: Rania's later
        // phone wins (a year-ahead stamp would have beaten it).
        let aheadSync = try ahead.json(["sync"])
        #expect(Self.number(aheadSync["repaired_stamps"]) >= 5, "\(aheadSync)")
        #expect(abs(Self.number(aheadSync["clock_offset_ms"]) + Self.year) < 60_000, "\(aheadSync)")
        // And then "behind" (corrected since its first sync) edits the size after Rania: it wins (a year-behind
        // stamp would have lost).
        usleep(50_000)
        try behind.ok(["family", "edit", "TUN-1", "--size", "9"])
        try behind.ok(["sync"])
        for volunteer in [rania, ahead, behind, rania] { try volunteer.ok(["sync"]) }

        // The server refused: the problem documents it sent (with their offset) show in its metrics.
        let refusals = try FaultTests.metric("fieldsync_errors_total{type=\"clock-drift\"}", server)
        #expect(refusals >= 2, "clock-drift refusals: \(refusals)")

        // Everyone holds the same, and the conflicts went to the edits that really came last.
        let dumps = try [central, rania.db, ahead.db, behind.db].map { path in
            try Replica(path: path, schema: .fieldSync, logger: quietLogger).dump()
        }
        #expect(Set(dumps).count == 1, "replicas differ")
        let family = try rania.json(["family", "show", "TUN-1"])
        #expect(family["phone"] as? String == "20 222 222", "\(family)")
        #expect(Self.number(family["household_size"]) == 9, "\(family)")
        // No write lost: the six deliveries, both new families, and the losers in history.
        #expect(try ReplicaFile.count(central, "deliveries") == 6)
        #expect(try ReplicaFile.count(central, "families") == 3)
        // Repaired stamps sit at the real time of the writes, not a year off.
        let finished = Self.now()
        for reference in ["TUN-A", "TUN-B"] {
            let stamps = try Self.deliveryStampMillis(central, family: reference)
            #expect(stamps.count == 3)
            #expect(
                stamps.allSatisfy { $0 >= started - 60_000 && $0 <= finished + 60_000 },
                "\(reference): \(stamps.map { $0 - started }) ms after the start")
            // And so do the times the wrong clock wrote into them (read from the device's corrected clock).
            let times = try Self.deliveryTimes(central, family: reference)
            #expect(
                times.count == 3 && times.allSatisfy { $0 >= started - 60_000 && $0 <= finished + 60_000 },
                "\(reference): delivered_at \(times.map { $0 - started }) ms after the start")
        }

        // Central's devices view shows both wrong clocks, and Rania's as right.
        server.stop()
        let report = try run(Binaries.field, ["report", "--db", central, "--json"])
        #expect(report.status == 0, "\(report.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any] ?? [:]
        let devices = Dictionary(
            uniqueKeysWithValues: (object["devices"] as? [[String: Any]] ?? []).map {
                ($0["name"] as? String ?? "", $0)
            })
        func offset(_ name: String) -> Int64 { Self.number(devices[name]?["clock_offset_ms"]) }
        #expect(abs(offset("ahead") + Self.year) < 60_000, "\(devices)")
        #expect(abs(offset("behind") - Self.year) < 60_000, "\(devices)")
        #expect(abs(offset("rania")) < 60_000, "\(devices)")
        #expect(devices["ahead"]?["clock_off"] as? Bool == true && devices["behind"]?["clock_off"] as? Bool == true)
        #expect(devices["rania"]?["clock_off"] as? Bool == false)
        // No write lost: central keeps both losers of the conflicts in its history.
        let history = try run(Binaries.field, ["history", "TUN-1", "--db", central, "--json"])
        let historyObject = try JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as? [String: Any] ?? [:]
        let superseded = (historyObject["superseded"] as? [[String: Any]] ?? []).map { "\($0["value"] ?? "")" }
        #expect(superseded.contains("20 111 111") && superseded.contains("7"), "\(superseded)")
        let text = try run(Binaries.field, ["report", "--db", central])
        #expect(text.stdout.contains("clock off"))
    }

    /// A phone that synced, then lost its date (battery out) and came back a year behind: its offline writes
    /// were stamped at its last stamp (the clock never goes back), which is already within the server's bound.
    /// The server refuses the request's clock; the client corrects its clock and moves no stamp (moving these
    /// by a year would put them a year ahead), and the writes arrive stamped at the time of the sync.
    @Test func aClockThatJumpsBackAfterASyncLosesNothing() throws {
        let started = Self.now()
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let central = directory.appendingPathComponent("central.db").path
        let server = try ServerProcess(database: central)
        defer { server.stop() }
        let token = try issueToken(db: central, role: "device", city: "Tunis", name: "dina", directory: directory)
        var dina = Volunteer(db: directory.appendingPathComponent("dina.db").path)
        try dina.ok(["init", "--server", server.url, "--token-file", token.file, "--city", "Tunis"])
        try dina.ok(["family", "add", "--reference", "TUN-D", "--head", "Dina", "--phone", "20 000 004"])
        try dina.ok(["sync"])
        dina.offset = -Self.year
        for item in ["food_pack", "connectivity_pack", "internet_recharge"] {
            try dina.ok(["deliver", "--family", "TUN-D", "--item", item, "--campaign", "w"])
        }
        try dina.ok(["family", "edit", "TUN-D", "--phone", "20 444 444"])
        let synced = try dina.json(["sync"])
        #expect(Self.number(synced["repaired_stamps"]) == 0, "\(synced)")
        #expect(try ReplicaFile.count(central, "deliveries") == 3)
        let finished = Self.now()
        let stamps = try Self.deliveryStampMillis(central, family: "TUN-D")
        #expect(
            stamps.count == 3 && stamps.allSatisfy { $0 >= started - 60_000 && $0 <= finished + 60_000 },
            "\(stamps.map { $0 - started }) ms after the start")
        // Their stamps stayed, but the times read from the clock a year behind moved by the year.
        let times = try Self.deliveryTimes(central, family: "TUN-D")
        #expect(
            times.count == 3 && times.allSatisfy { $0 >= started - 60_000 && $0 <= finished + 60_000 },
            "delivered_at \(times.map { $0 - started }) ms after the start")
        server.stop()
        #expect(
            try Replica(path: central, schema: .fieldSync, logger: quietLogger).dump()
                == Replica(path: dina.db, schema: .fieldSync, logger: quietLogger).dump()
        )
        let report = try run(Binaries.field, ["report", "--db", central, "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any] ?? [:]
        let device = (object["devices"] as? [[String: Any]] ?? []).first { $0["name"] as? String == "dina" }
        #expect(abs(Self.number(device?["clock_offset_ms"]) - Self.year) < 60_000, "\(device ?? [:])")
        #expect(device?["clock_off"] as? Bool == true)
    }
}

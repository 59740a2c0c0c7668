import FieldDomain
import Foundation
import GRDB
import SyncClient
import SyncCore
import Testing

/// A dishonest participant with one valid token, against real processes (issue: hostile clients). Each
/// test is a case that worked against the release binaries before the fix.
@Suite("Hostile participants", .serialized)
struct HostileParticipantTests {
    /// Central, an admin device that wrote one family in each of two cities, and the directory.
    struct Central {
        let directory: URL
        let db: String
        let server: ServerProcess
        let admin: TestDevice
        /// The family the admin registered in each city, by city.
        let families: [String: String]

        init() throws {
            directory = try temporaryDirectory()
            db = directory.appendingPathComponent("central.db").path
            let adminToken = try issueToken(db: db, role: "admin", city: nil, name: "admin", directory: directory)
            server = try ServerProcess(database: db)
            admin = try TestDevice(
                name: "admin", city: "-", directory: directory, server: server.url, token: adminToken.token)
            var families: [String: String] = [:]
            for city in ["Tunis", "Sfax"] {
                families[city] = try admin.replica.write { tx in
                    try tx.addFamily(NewFamily(city: city, reference: "\(city)-1", headName: "Famille \(city)"))
                }
            }
            self.families = families
            try admin.sync()
        }

        func stop() {
            server.stop()
            try? FileManager.default.removeItem(at: directory)
        }

        func device(_ name: String, city: String) throws -> TestDevice {
            let token = try issueToken(db: db, role: "device", city: city, name: name, directory: directory)
            return try TestDevice(name: name, city: city, directory: directory, server: server.url, token: token.token)
        }

        var replica: Replica { get throws { try Replica(path: db, schema: .fieldSync, logger: quietLogger) } }

        /// A Tunis hub syncing with central, and a device "d" enrolled with it.
        func tunisHub() throws -> (Hub, TestDevice) {
            let hubDB = directory.appendingPathComponent("hub.db").path
            let hubToken = try issueToken(db: db, role: "hub", city: "Tunis", name: "hub", directory: directory)
            let deviceToken = try issueToken(db: hubDB, role: "device", city: "Tunis", name: "d", directory: directory)
            let server = try ServerProcess(
                database: hubDB, arguments: ["--upstream", self.server.url, "--upstream-token-file", hubToken.file])
            let device = try TestDevice(
                name: "d", city: "Tunis", directory: directory, server: server.url, token: deviceToken.token)
            return (Hub(server: server, db: hubDB), device)
        }
    }

    struct Hub {
        let server: ServerProcess
        let db: String

        /// The hub's nightly sync, now.
        func syncUpstream() throws -> CommandResult {
            try run(Binaries.syncServer, ["sync-upstream", "--db", db, "--json"])
        }
    }

    /// POSTs a raw body with a token; returns the status and the body.
    static func post(_ url: String, token: String, _ body: [UInt8]) throws -> (status: Int, body: String) {
        let transport = CurlTransport(
            configuration: ClientConfiguration(serverURL: url, token: ""), logger: quietLogger)
        let result = try transport.raw(
            method: "POST", path: "/v1/sync",
            headers: ["Content-Type: application/json", "Authorization: Bearer \(token)"], body: body)
        return (result.status, String(decoding: result.body, as: UTF8.self))
    }

    static func health(_ url: String) throws -> Int {
        let transport = CurlTransport(
            configuration: ClientConfiguration(serverURL: url, token: ""), logger: quietLogger)
        return try transport.raw(method: "GET", path: "/healthz", headers: [], body: nil).status
    }

    /// A push of one record from `node`, without a lease (an older client's request: accepted as such).
    static func push(
        node: NodeID, _ collection: String, id: String, _ values: [(String, Value)], clock: UInt64? = nil
    ) -> [UInt8] {
        let now = clock ?? SystemClock().nowMillis()
        let batch = ChangeBatch([
            CollectionChanges(
                name: collection, fields: values.map(\.0),
                records: [
                    RecordChange(
                        id: id, stamp: Stamp(hlc: HLCTimestamp(millis: now, counter: 0), node: node),
                        cells: values.enumerated().map { Cell(field: $0, value: $1.1) })
                ])
        ])
        return SyncRequest(node: node, clockMillis: Int64(now), push: .init(batch: batch, to: FeedCursor(1)))
            .encoded()
    }

    // MARK: Numbers

    @Test func extremeNumbersGet400AndTheServerLives() throws {
        let central = try Central()
        defer { central.stop() }
        let device = try central.device("d", city: "Tunis")
        try device.sync()
        let token = try issueToken(
            db: central.db, role: "device", city: "Tunis", name: "x", directory: central.directory)
        let node = device.replica.nodeID
        let now = SystemClock().nowMillis()
        let head = "{\"v\":1,\"node\":\"\(node)\",\"clock\":\(now)"
        let bodies = [
            "\(head),\"pull\":{\"cursor\":\"9223372036854775807\"}}",
            "\(head),\"pull\":{\"cursor\":\"9007199254740993\"}}",
            "\(head),\"pull\":{\"cursor\":\"0:9223372036854775807\"}}",
            "\(head),\"heartbeat\":{\"app\":\"x\",\"backlog\":0,\"clock_correction_ms\":-9223372036854775808}}",
            "\(head),\"heartbeat\":{\"app\":\"x\",\"backlog\":-1}}",
            "\(head),\"heartbeat\":{\"app\":\"x\",\"backlog\":9223372036854775807}}",
        ]
        for body in bodies {
            let answer = try Self.post(central.server.url, token: token.token, Array(body.utf8))
            #expect(answer.status == 400, "\(body): \(answer.body)")
            #expect(try Self.health(central.server.url) == 200, "the server died on \(body)")
        }
        // The honest device still syncs.
        try device.work(families: 1, deliveriesEach: 1)
        #expect(try device.sync().pushed == 2)
    }

    /// Values a client sent that no reader expects (a status relayed with the most negative clock offset, a
    /// family stored without its reference or head of household) are shown, never crash the report.
    @Test func hostileStoredValuesDoNotCrashTheAdminsTools() throws {
        let central = try Central()
        defer { central.stop() }
        central.server.stop()
        try central.replica.write { tx in
            _ = try tx.insert(
                "deliveries",
                values: [
                    "city": "Tunis", "family": .text(central.families["Tunis"]!), "item": "food_pack", "quantity": 1,
                    "delivered_at": 1_780_000_000_000, "volunteer": "v",
                ])
        }
        let raw = try DatabaseQueue(path: central.db)
        try raw.write { db in
            try db.execute(
                sql: """
                    INSERT INTO _heartbeats(node, role, city, name, backlog, clock_offset_ms, last_seen_ms)
                    VALUES ('00000000000000aa', 'device', 'Tunis', 'evil', -1, -9223372036854775808,
                        -9223372036854775808)
                    """)
            try db.execute(sql: "UPDATE families SET reference = NULL, head_name = NULL, city = NULL")
            try db.execute(sql: "UPDATE deliveries SET quantity = 9223372036854775807, item = NULL")
            try db.execute(sql: "INSERT INTO entitlements(id, item, max_per_family) VALUES ('r', 'food_pack', NULL)")
        }
        for arguments in [
            ["report", "--db", central.db], ["report", "--db", central.db, "--json"],
            [
                "export", "deliveries", "--csv", central.directory.appendingPathComponent("d.csv").path, "--db",
                central.db,
            ],
            [
                "export", "families", "--csv", central.directory.appendingPathComponent("f.csv").path, "--db",
                central.db,
            ],
            [
                "export", "breaches", "--csv", central.directory.appendingPathComponent("b.csv").path, "--db",
                central.db,
            ],
            ["admin", "rule", "list", "--db", central.db],
        ] {
            let result = try run(Binaries.field, arguments)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
        }
    }

    // MARK: Identity

    /// A fresh token cannot take the node id of a device the server knows (from its own sync, or only from
    /// the records a hub relayed): refused as `node-taken`, and the victim syncs on under its own id.
    @Test func aFreshTokenCannotTakeAnotherDevicesNodeID() throws {
        let central = try Central()
        defer { central.stop() }
        let victim = try central.device("victim", city: "Tunis")
        try victim.work(families: 1, deliveriesEach: 1)
        try victim.sync()
        let thief = try issueToken(
            db: central.db, role: "device", city: "Tunis", name: "thief", directory: central.directory)
        let forged = Self.push(
            node: victim.replica.nodeID, "families", id: "forged-1",
            [("city", "Tunis"), ("reference", "F"), ("head_name", "Forged")])
        let answer = try Self.post(central.server.url, token: thief.token, forged)
        #expect(answer.status == 403, "\(answer.body)")
        #expect(Problem(decoding: Array(answer.body.utf8))?.code == "node-taken", "\(answer.body)")
        #expect(try central.replica.record("families", id: "forged-1") == nil)
        #expect(central.server.waitForLog("token refused a node id known from another device"))
        // The victim is not made to take a new id, and its next writes arrive.
        try victim.work(families: 1, deliveriesEach: 0)
        let summary = try victim.sync()
        #expect(summary.newNodeID == nil && summary.pushed == 1)
        // A node id known only from stamps (a device that syncs through a hub) is taken too.
        let relayedNode = NodeID.random()
        try central.replica.apply(
            ChangeBatch([
                CollectionChanges(
                    name: "families", fields: ["city", "reference", "head_name"],
                    records: [
                        RecordChange(
                            id: "relayed-1",
                            stamp: Stamp(
                                hlc: HLCTimestamp(millis: SystemClock().nowMillis(), counter: 0), node: relayedNode),
                            cells: [
                                Cell(field: 0, value: "Tunis"), Cell(field: 1, value: "R"), Cell(field: 2, value: "H"),
                            ])
                    ])
            ]))
        let another = try issueToken(
            db: central.db, role: "device", city: "Tunis", name: "another", directory: central.directory)
        let second = try Self.post(
            central.server.url, token: another.token,
            Self.push(
                node: relayedNode, "families", id: "forged-2",
                [("city", "Tunis"), ("reference", "G"), ("head_name", "G")]))
        #expect(second.status == 403, "\(second.body)")
        // An honest device enrolled again with a new token takes a new id by itself and syncs.
        let renewed = try issueToken(
            db: central.db, role: "device", city: "Tunis", name: "victim-2", directory: central.directory)
        // (The same replica file, opened with the new token.)
        let again = try TestDevice(
            name: "victim", city: "Tunis", directory: central.directory, server: central.server.url,
            token: renewed.token)
        try again.work(families: 1, deliveriesEach: 0)
        let moved = try again.sync()
        #expect(moved.newNodeID != nil && moved.pushed == 1)
    }

    // MARK: Per-record refusals

    /// Another city's family through a reference, a foreign id, values the schema does not allow: each is
    /// refused on its own, named in the answer and kept aside at both ends; the rest is applied.
    @Test func badRecordsAreRefusedOneByOneAndTheRestIsApplied() throws {
        let central = try Central()
        defer { central.stop() }
        let device = try central.device("cheat", city: "Tunis")
        try device.sync()
        let sfaxFamily = central.families["Sfax"]!
        let tunisFamily = central.families["Tunis"]!
        let before = try central.replica.dump()
        try device.replica.write { tx in
            // A "new" family under the id of Sfax's, with this device's city.
            _ = try tx.create(
                "families", id: sfaxFamily, values: ["city": "Tunis", "reference": "X", "head_name": "Taken"])
            // A delivery to Sfax's family, and an honest one.
            _ = try tx.insert(
                "deliveries", id: "cross-city",
                values: [
                    "city": "Tunis", "family": .text(sfaxFamily), "item": "food_pack", "quantity": 1,
                    "delivered_at": 1_780_000_000_000, "volunteer": "cheat",
                ])
            _ = try tx.insert(
                "deliveries", id: "honest",
                values: [
                    "city": "Tunis", "family": .text(tunisFamily), "item": "food_pack", "quantity": 1,
                    "delivered_at": 1_780_000_000_000, "volunteer": "cheat",
                ])
        }
        let summary = try device.sync()
        #expect(summary.refused == 2, "\(summary)")
        let server = try central.replica
        #expect(try server.record("deliveries", id: "honest") != nil)
        #expect(try server.record("deliveries", id: "cross-city") == nil)
        #expect(try server.record("families", id: sfaxFamily)?["city"] == .text("Sfax"))
        #expect(try server.record("families", id: sfaxFamily)?["head_name"] == .text("Famille Sfax"))
        let kept = try server.refusedRecords()
        #expect(Set(kept.map(\.refusal.id)) == [sfaxFamily, "cross-city"], "\(kept)")
        #expect(Set(kept.map(\.refusal.code)) == [.outOfScope, .badReference])
        // The device set them aside: not live, listed, never sent again.
        #expect(try device.replica.record("deliveries", id: "cross-city") == nil)
        #expect(try device.replica.record("families", id: sfaxFamily) == nil)
        #expect(try device.replica.refusedRecords().count == 2)
        try device.work(families: 1, deliveriesEach: 1)
        let next = try device.sync()
        #expect(next.pushed == 2 && next.refused == 0)
        #expect(try server.refusedRecords().count == 2)
        // The volunteer and the admin see them, with the reason; the admin drops one once dealt with.
        let status = try run(
            Binaries.field, ["status", "--db", central.directory.appendingPathComponent("cheat.db").path])
        #expect(
            status.status == 0 && status.stdout.contains("refused:     2 records"), "\(status.stdout)\(status.stderr)")
        let report = try run(Binaries.field, ["report", "--db", central.db])
        #expect(report.stdout.contains("== Refused records: kept aside, not applied (2) =="), "\(report.stdout)")
        let listed = try run(Binaries.field, ["admin", "refused", "list", "--json", "--db", central.db])
        let numbers = try #require(
            JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]]
        ).compactMap { $0["number"] as? Int }
        #expect(numbers.count == 2)
        #expect(try run(Binaries.field, ["admin", "refused", "drop", "\(numbers[0])", "--db", central.db]).status == 0)
        #expect(try run(Binaries.field, ["admin", "refused", "drop", "\(numbers[0])", "--db", central.db]).status != 0)
        #expect(
            try run(Binaries.field, ["admin", "refused", "accept", "\(numbers[0])", "--db", central.db]).status != 0)
        #expect(try server.refusedRecords().count == 1)
        // Values the schema does not allow, sent raw: refused one by one; a good record beside them stays.
        let token = try issueToken(
            db: central.db, role: "device", city: "Tunis", name: "raw", directory: central.directory)
        let node = NodeID.random()
        let now = SystemClock().nowMillis()
        let batch = ChangeBatch([
            CollectionChanges(
                name: "deliveries", fields: ["city", "family", "item", "quantity", "delivered_at", "volunteer"],
                records: [
                    ("neg", "food_pack", -1), ("tent", "tent", 1), ("huge", "food_pack", Int64.max),
                    ("ok", "food_pack", 2),
                ].enumerated().map { index, spec in
                    RecordChange(
                        id: spec.0, stamp: Stamp(hlc: HLCTimestamp(millis: now, counter: UInt16(index)), node: node),
                        cells: [
                            Cell(field: 0, value: "Tunis"), Cell(field: 1, value: .text(tunisFamily)),
                            Cell(field: 2, value: .text(spec.1)), Cell(field: 3, value: .integer(spec.2)),
                            Cell(field: 4, value: 1_780_000_000_000), Cell(field: 5, value: "raw"),
                        ])
                }),
            CollectionChanges(
                name: "families", fields: ["city", "head_name"],
                records: [
                    RecordChange(
                        id: "no-reference", stamp: Stamp(hlc: HLCTimestamp(millis: now, counter: 9), node: node),
                        cells: [Cell(field: 0, value: "Tunis"), Cell(field: 1, value: "H")])
                ]),
        ])
        let answer = try Self.post(
            central.server.url, token: token.token,
            SyncRequest(node: node, clockMillis: Int64(now), push: .init(batch: batch, to: FeedCursor(5))).encoded())
        #expect(answer.status == 200, "\(answer.body)")
        let response = try SyncResponse(decoding: Array(answer.body.utf8))
        #expect(Set(response.pushed?.refused.map(\.id) ?? []) == ["neg", "tent", "huge", "no-reference"])
        #expect(response.pushed?.refused.allSatisfy { $0.code == .invalidValue } == true)
        #expect(try server.record("deliveries", id: "ok") != nil)
        #expect(try server.record("families", id: "no-reference") == nil)
        _ = before
    }

    /// Through a hub: a device's record that central refuses no longer wedges the city. The hub's upstream
    /// sync succeeds, the record is set aside at the hub, and the city's later records go up.
    @Test func aRefusedRecordNoLongerWedgesTheHub() throws {
        let central = try Central()
        defer { central.stop() }
        let (hub, device) = try central.tunisHub()
        defer { hub.server.stop() }
        let hubDB = hub.db
        func syncUpstream() throws -> CommandResult { try hub.syncUpstream() }
        #expect(try syncUpstream().status == 0)
        try device.sync()
        // The device registers a "new" family under the id of Sfax's: the hub cannot tell.
        try device.replica.write { tx in
            _ = try tx.create(
                "families", id: central.families["Sfax"]!,
                values: ["city": "Tunis", "reference": "X", "head_name": "Taken"])
        }
        try device.work(families: 2, deliveriesEach: 1)
        try device.sync()
        let first = try syncUpstream()
        #expect(first.status == 0, "\(first.stderr)")
        // Later work of the city goes up too, every night.
        try device.work(families: 1, deliveriesEach: 1)
        try device.sync()
        let second = try syncUpstream()
        #expect(second.status == 0, "\(second.stderr)")
        let server = try central.replica
        #expect(
            try server.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM families WHERE city = 'Tunis'") }
                == 4)
        #expect(try server.record("families", id: central.families["Sfax"]!)?["city"] == .text("Sfax"))
        #expect(try server.refusedRecords().map(\.refusal.id) == [central.families["Sfax"]!])
        let hubReplica = try Replica(path: hubDB, schema: .fieldSync, logger: quietLogger)
        #expect(try hubReplica.record("families", id: central.families["Sfax"]!) == nil)
        #expect(try hubReplica.refusedRecords().count == 1)
        // The hub passes the refusal back: the device that made the record sets it aside with the reason.
        try device.sync()
        #expect(try device.replica.record("families", id: central.families["Sfax"]!) == nil)
        let kept = try device.replica.refusedRecords()
        #expect(kept.map(\.refusal.code) == [.outOfScope], "\(kept)")
        #expect(kept.first?.refusal.detail.contains("Sfax") == true, "\(kept)")
    }

    /// A family moved to another city leaves no editable copy in the old city, and an edit made there before
    /// the news is refused alone, never wedging the hub.
    @Test func aFamilyMovedAwayLeavesNoStaleCopyAndNoWedgedHub() throws {
        let central = try Central()
        defer { central.stop() }
        let (hub, device) = try central.tunisHub()
        defer { hub.server.stop() }
        let hubDB = hub.db
        func syncUpstream() throws {
            let result = try hub.syncUpstream()
            #expect(result.status == 0, "\(result.stderr)")
        }
        let moved = central.families["Tunis"]!
        let staying = try central.admin.replica.write { tx in
            try tx.addFamily(NewFamily(city: "Tunis", reference: "Tunis-2", headName: "Reste"))
        }
        try central.admin.sync()
        try syncUpstream()
        try device.sync()
        #expect(try device.replica.record("families", id: moved) != nil)
        // Offline, the volunteer edits the family; meanwhile the admin moves it to Sfax.
        try device.replica.write { tx in try tx.editFamily(moved, ["phone": "0611"]) }
        try central.admin.replica.write { tx in try tx.editFamily(moved, ["city": "Sfax"]) }
        try central.admin.sync()
        // The edit reaches the hub (which has not heard yet), then central, which refuses it alone.
        try device.sync()
        try syncUpstream()
        try syncUpstream()
        let hubReplica = try Replica(path: hubDB, schema: .fieldSync, logger: quietLogger)
        #expect(try hubReplica.record("families", id: moved) == nil)
        #expect(try hubReplica.record("families", id: staying) != nil)
        try device.sync()
        #expect(try device.replica.record("families", id: moved) == nil)
        #expect(try device.replica.record("families", id: staying) != nil)
        // Central kept the move and the admin sees the refused edit; the city goes on syncing.
        let server = try central.replica
        #expect(try server.record("families", id: moved)?["city"] == "Sfax")
        #expect(try server.record("families", id: moved)?["phone"] != "0611")
        #expect(try server.refusedRecords().map(\.refusal.id) == [moved])
        try device.work(families: 1, deliveriesEach: 1)
        try device.sync()
        try syncUpstream()
        #expect(
            try server.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM families WHERE city = 'Tunis'") }
                == 2)
        // A family moved away without any edit in flight is dropped the same way.
        try central.admin.replica.write { tx in try tx.editFamily(staying, ["city": "Sfax"]) }
        try central.admin.sync()
        try syncUpstream()
        try device.sync()
        #expect(try hubReplica.record("families", id: staying) == nil)
        #expect(try device.replica.record("families", id: staying) == nil)
    }

    /// A hub relays statuses only for devices it serves: not for a device of another city, nor for one that
    /// syncs with central itself.
    @Test func aHubCannotOverwriteOtherDevicesStatuses() throws {
        let central = try Central()
        defer { central.stop() }
        let sfax = try central.device("sfax-device", city: "Sfax")
        try sfax.sync()
        let hubToken = try issueToken(
            db: central.db, role: "hub", city: "Tunis", name: "hub", directory: central.directory)
        let hubNode = NodeID.random()
        let now = SystemClock().nowMillis()
        let forged = DeviceStatus(
            node: sfax.replica.nodeID, name: "forged", role: "device", city: "Tunis",
            heartbeat: Heartbeat(app: "forged", backlog: 999), clockOffsetMillis: 0, lastSeenMillis: Int64(now))
        var request = SyncRequest(node: hubNode, clockMillis: Int64(now))
        request.relayed = [forged]
        let answer = try Self.post(central.server.url, token: hubToken.token, request.encoded())
        #expect(answer.status == 200, "\(answer.body)")
        let row = try central.replica.read { db in
            try Row.fetchOne(
                db, sql: "SELECT name, city FROM _heartbeats WHERE node = ?",
                arguments: [sfax.replica.nodeID.description]
            ).map { (name: $0["name"] as String?, city: $0["city"] as String?) }
        }
        #expect(row?.name == "sfax-device")
        #expect(row?.city == "Sfax")
    }
}

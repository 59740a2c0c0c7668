import Foundation
import SyncClient
import SyncCore
import Testing

/// Each role and city against each endpoint and each other city's records: 401/403 as specified, no leak.
@Suite("Authorization", .serialized)
struct AuthorizationTests {
    struct Caller {
        var label: String
        var authorization: String?
        var role: Principal.Role?
        var city: String?
        var node = NodeID.random()
        var valid: Bool { role != nil }
    }

    static func send(
        _ server: ServerProcess, _ caller: Caller, _ method: String, _ path: String, body: [UInt8]? = nil
    ) throws -> HTTPResult {
        let transport = CurlTransport(
            configuration: ClientConfiguration(serverURL: server.url, token: ""), logger: quietLogger)
        var headers = ["Content-Type: application/json"]
        if let authorization = caller.authorization { headers.append("Authorization: \(authorization)") }
        let result = try transport.raw(method: method, path: path, headers: headers, body: body)
        // No answer ever carries a token (all start with fs1_).
        #expect(!String(decoding: result.body, as: UTF8.self).contains("fs1_"), "\(caller.label) \(method) \(path)")
        return result
    }

    static func family(
        _ id: String, city: String, node: NodeID, millis: UInt64 = SystemClock().nowMillis()
    ) -> ChangeBatch {
        let stamp = Stamp(hlc: HLCTimestamp(millis: millis, counter: 0), node: node)
        return ChangeBatch([
            CollectionChanges(
                name: "families", fields: ["city", "reference", "head_name"],
                records: [
                    RecordChange(
                        id: id, stamp: stamp,
                        cells: [
                            Cell(field: 0, value: .text(city)), Cell(field: 1, value: "R"), Cell(field: 2, value: "H"),
                        ])
                ])
        ])
    }

    static func push(_ batch: ChangeBatch, node: NodeID) -> [UInt8] {
        SyncRequest(
            node: node, clockMillis: Int64(SystemClock().nowMillis()), push: .init(batch: batch, to: FeedCursor(1))
        ).encoded()
    }

    @Test func everyRoleAgainstEveryEndpointAndCity() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let db = directory.appendingPathComponent("central.db").path
        var callers: [Caller] = []
        for (role, city) in [
            ("device", "Tunis"), ("device", "Sfax"), ("hub", "Tunis"), ("hub", "Sfax"), ("admin", nil),
        ] {
            let token = try issueToken(
                db: db, role: role, city: city, name: "\(role)-\(city ?? "all")", directory: directory)
            callers.append(
                Caller(
                    label: "\(role)/\(city ?? "all")", authorization: "Bearer \(token.token)",
                    role: Principal.Role(rawValue: role), city: city))
        }
        let revoked = try issueToken(db: db, role: "device", city: "Tunis", name: "lost-phone", directory: directory)
        let revokedCaller = Caller(
            label: "revoked", authorization: "Bearer \(revoked.token)", role: .device, city: "Tunis")
        let bad = [
            Caller(label: "none", authorization: nil),
            Caller(label: "unknown", authorization: "Bearer fs1_" + String(repeating: "0", count: 48)),
            Caller(label: "malformed", authorization: "Basic dXNlcjpwYXNz"),
        ]
        var server = try ServerProcess(database: db)
        defer { server.stop() }
        let admin = callers.last!
        // Central holds a family in each city, written by the admin.
        for city in ["Tunis", "Sfax"] {
            let result = try Self.send(
                server, admin, "POST", "/v1/sync",
                body: Self.push(Self.family("fam-\(city)", city: city, node: admin.node), node: admin.node))
            #expect(result.status == 200, "\(String(decoding: result.body, as: UTF8.self))")
        }
        // The revoked token works, then is revoked by another process: its very next request gets 401.
        #expect(try Self.send(server, revokedCaller, "GET", "/v1/session").status == 200)
        #expect(try run(Binaries.syncServer, ["token", "revoke", "--db", db, "lost-phone"]).status == 0)
        var leaks = 0
        for caller in callers + bad + [revokedCaller] {
            let valid = caller.valid && caller.label != "revoked"
            #expect(try Self.send(server, caller, "GET", "/healthz").status == 200)
            #expect(try Self.send(server, caller, "GET", "/metrics").status == 200)
            let session = try Self.send(server, caller, "GET", "/v1/session")
            #expect(session.status == (valid ? 200 : 401), "\(caller.label) session")
            if !valid {
                #expect(session.contentType == "application/problem+json")
                let pull = try Self.send(
                    server, caller, "POST", "/v1/sync",
                    body: SyncRequest(
                        node: caller.node, clockMillis: Int64(SystemClock().nowMillis()), pull: .init(cursor: .start)
                    ).encoded())
                #expect(pull.status == 401, "\(caller.label) pull")
                continue
            }
            // Pull everything: a scoped caller receives only its city.
            let pull = try Self.send(
                server, caller, "POST", "/v1/sync",
                body: SyncRequest(
                    node: caller.node, clockMillis: Int64(SystemClock().nowMillis()), pull: .init(cursor: .start)
                ).encoded())
            #expect(pull.status == 200)
            let page = try SyncResponse(decoding: pull.body).pull
            var cities: Set<String> = []
            for group in page?.batch.collections ?? [] {
                guard let cityField = group.fields.firstIndex(of: "city") else { continue }
                for record in group.records {
                    if case .text(let city)? = record.cells.first(where: { $0.field == cityField })?.value {
                        cities.insert(city)
                    }
                }
            }
            if let city = caller.city {
                leaks += cities.subtracting([city]).count
                #expect(cities == [city], "\(caller.label) pulled \(cities)")
            } else {
                #expect(cities == ["Tunis", "Sfax"])
            }
            for city in ["Tunis", "Sfax"] {
                // A new record, and an edit of the existing one without its city field.
                let own = caller.city == nil || caller.city == city
                let create = try Self.send(
                    server, caller, "POST", "/v1/sync",
                    body: Self.push(
                        Self.family("new-\(caller.node)-\(city)", city: city, node: caller.node), node: caller.node))
                #expect(create.status == 200, "\(caller.label) create in \(city)")
                #expect(refusedCodes(create.body) == (own ? [] : ["out-of-scope"]), "\(caller.label) create in \(city)")
                let stamp = Stamp(hlc: HLCTimestamp(millis: SystemClock().nowMillis(), counter: 0), node: caller.node)
                let edit = ChangeBatch([
                    CollectionChanges(
                        name: "families", fields: ["phone"],
                        records: [RecordChange(id: "fam-\(city)", stamp: stamp, cells: [Cell(field: 0, value: "0000")])]
                    )
                ])
                let editResult = try Self.send(
                    server, caller, "POST", "/v1/sync", body: Self.push(edit, node: caller.node))
                #expect(editResult.status == 200, "\(caller.label) edit in \(city)")
                #expect(
                    refusedCodes(editResult.body) == (own ? [] : ["out-of-scope"]), "\(caller.label) edit in \(city)")
            }
            // Entitlement rules are the admin's.
            let stamp = Stamp(hlc: HLCTimestamp(millis: SystemClock().nowMillis(), counter: 0), node: caller.node)
            let rule = ChangeBatch([
                CollectionChanges(
                    name: "entitlements", fields: ["item", "max_per_family"],
                    records: [
                        RecordChange(
                            id: "rule-\(caller.node)", stamp: stamp,
                            cells: [Cell(field: 0, value: "food_pack"), Cell(field: 1, value: 1)])
                    ])
            ])
            let ruleResult = try Self.send(server, caller, "POST", "/v1/sync", body: Self.push(rule, node: caller.node))
            #expect(ruleResult.status == 200, "\(caller.label) rule")
            #expect(
                refusedCodes(ruleResult.body) == (caller.role == .admin ? [] : ["out-of-scope"]), "\(caller.label) rule"
            )
            // A device token is bound to the node that first used it.
            if caller.role == .device {
                let other = NodeID.random()
                let result = try Self.send(
                    server, caller, "POST", "/v1/sync",
                    body: SyncRequest(node: other, clockMillis: Int64(SystemClock().nowMillis())).encoded())
                #expect(result.status == 403 && Problem(decoding: result.body)?.code == "wrong-node")
            }
        }
        #expect(leaks == 0)
        // Revocation survives a restart.
        server.stop()
        server = try ServerProcess(database: db)
        #expect(try Self.send(server, revokedCaller, "GET", "/v1/session").status == 401)
        #expect(try Self.send(server, callers[0], "GET", "/v1/session").status == 200)
        server.stop()  // the whole log, not what has been read of it so far
        #expect(!server.logText.contains("fs1_"))
    }
}

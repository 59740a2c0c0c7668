import FieldDomain
import Foundation
import SyncClient
import SyncCore
import Testing

/// Tokens stay secret (no log line, no response body, no CLI output carries one), replica files are private
/// (0600, with their WAL and SHM files), and a token of one city cannot reach another city's records
/// through the paths the authorization matrix leaves out (moving a record, tombstones, relayed conflicts
/// and statuses).
@Suite("Security", .serialized)
struct SecurityTests {
    /// Every response body and every process output of the scenario, to grep for tokens.
    final class Transcript: @unchecked Sendable {
        // @unchecked: only touched from the test's thread.
        var texts: [(label: String, text: String)] = []
        func add(_ label: String, _ text: String) { texts.append((label, text)) }
        func add(_ label: String, _ result: CommandResult) {
            add(label, result.stdout + result.stderr)
        }
    }

    static func mode(_ path: String) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    static func family(
        _ id: String, fields: [String], values: [Value], node: NodeID, clock: UInt64 = SystemClock().nowMillis()
    ) -> [UInt8] {
        let stamp = Stamp(hlc: HLCTimestamp(millis: SystemClock().nowMillis(), counter: 0), node: node)
        let batch = ChangeBatch([
            CollectionChanges(
                name: "families", fields: fields,
                records: [
                    RecordChange(
                        id: id, stamp: stamp, cells: values.enumerated().map { Cell(field: $0, value: $1) })
                ])
        ])
        return SyncRequest(
            node: node, clockMillis: Int64(clock), push: .init(batch: batch, to: FeedCursor(1))
        ).encoded()
    }

    @Test func tokensNeverLeakAndFilesArePrivateAndCitiesStayApart() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let transcript = Transcript()
        let central = directory.appendingPathComponent("central.db").path
        let hubDB = directory.appendingPathComponent("hub-tunis.db").path
        let admin = try issueToken(db: central, role: "admin", city: nil, name: "admin", directory: directory)
        let hubToken = try issueToken(db: central, role: "hub", city: "Tunis", name: "hub-tunis", directory: directory)
        let sfaxHub = try issueToken(db: central, role: "hub", city: "Sfax", name: "hub-sfax", directory: directory)
        let amina = try issueToken(db: hubDB, role: "device", city: "Tunis", name: "amina", directory: directory)
        let lost = try issueToken(db: hubDB, role: "device", city: "Tunis", name: "lost", directory: directory)
        let tokens = [admin, hubToken, sfaxHub, amina, lost].map(\.token)
        // Trace logging: the most the servers ever write.
        let centralServer = try ServerProcess(database: central, arguments: ["--log-level", "trace"])
        defer { centralServer.stop() }
        let hub = try ServerProcess(
            database: hubDB,
            arguments: [
                "--log-level", "trace", "--upstream", centralServer.url, "--upstream-token-file", hubToken.file,
            ])
        defer { hub.stop() }
        let transport = CurlTransport(
            configuration: ClientConfiguration(serverURL: centralServer.url, token: ""), logger: quietLogger)
        func send(
            _ label: String, _ server: ServerProcess, _ token: String?, _ method: String, _ path: String,
            body: [UInt8]? = nil, headers: [String] = ["Content-Type: application/json"]
        ) throws -> HTTPResult {
            let transport =
                server === centralServer
                ? transport
                : CurlTransport(
                    configuration: ClientConfiguration(serverURL: server.url, token: ""), logger: quietLogger)
            let result = try transport.raw(
                method: method, path: path, headers: headers + (token.map { ["Authorization: Bearer \($0)"] } ?? []),
                body: body)
            transcript.add("\(label) (\(result.status))", String(decoding: result.body, as: UTF8.self))
            return result
        }

        // The device enrols with the field CLI, works, syncs; the hub syncs upstream with the CLI.
        let fieldDB = directory.appendingPathComponent("amina/field.db").path
        func field(_ arguments: [String]) throws -> CommandResult {
            let result = try run(Binaries.field, arguments + ["--db", fieldDB])
            transcript.add("field \(arguments.first ?? "")", result)
            return result
        }
        // The token file as an operator may leave it (readable by others): field init says to delete it.
        chmod(amina.file, 0o644)
        let enrolled = try field(["init", "--server", hub.url, "--token-file", amina.file])
        #expect(enrolled.status == 0)
        #expect(enrolled.stderr.contains("chmod 600"), "\(enrolled.stderr)")
        #expect(
            try field(["family", "add", "--reference", "TUN-1", "--head", "Fatma Ben Ali", "--phone", "71 000 000"])
                .status == 0)
        let listed = try field(["family", "list", "--json"])
        let families = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]]
        let tunisID = try #require(families?.first?["id"] as? String)
        #expect(try field(["sync"]).status == 0)
        let upstream = try run(Binaries.syncServer, ["sync-upstream", "--db", hubDB, "--log-level", "trace"])
        transcript.add("sync-upstream", upstream)
        #expect(upstream.status == 0, "\(upstream.stderr)")
        transcript.add("token list", try run(Binaries.syncServer, ["token", "list", "--db", hubDB]))

        // Every kind of refusal, each carrying a token somewhere.
        let node = NodeID.random()
        let pull = SyncRequest(node: node, clockMillis: Int64(SystemClock().nowMillis()), pull: .init(cursor: .start))
        #expect(try send("lost session", hub, lost.token, "GET", "/v1/session").status == 200)
        transcript.add("revoke", try run(Binaries.syncServer, ["token", "revoke", "--db", hubDB, "lost"]))
        #expect(try send("revoked", hub, lost.token, "POST", "/v1/sync", body: pull.encoded()).status == 401)
        #expect(
            try send(
                "unknown", centralServer, "fs1_" + String(repeating: "ab", count: 24), "GET", "/v1/session"
            ).status == 401)
        #expect(
            try send(
                "basic", centralServer, nil, "GET", "/v1/session", headers: ["Authorization: Basic \(admin.token)"]
            )
            .status == 401)
        #expect(
            try send(
                "long", centralServer, String(repeating: admin.token, count: 6), "GET", "/v1/session"
            ).status == 401)
        #expect(try send("wrong node", hub, amina.token, "POST", "/v1/sync", body: pull.encoded()).status == 403)
        #expect(
            try send("bad json", centralServer, admin.token, "POST", "/v1/sync", body: Array("{\"v\":".utf8)).status
                == 400)
        #expect(
            try send("not found", centralServer, admin.token, "GET", "/v1/nothing").status == 404)
        #expect(try send("wrong method", centralServer, admin.token, "DELETE", "/v1/sync").status == 405)
        #expect(
            try send(
                "media type", centralServer, admin.token, "POST", "/v1/sync", body: pull.encoded(),
                headers: ["Content-Type: text/plain"]
            ).status == 415)
        let late = Self.family(
            "fam-late", fields: ["city", "reference", "head_name"], values: ["Tunis", "R", "H"], node: NodeID.random(),
            clock: SystemClock().nowMillis() - 86_400_000)
        #expect(
            try send("clock drift", centralServer, admin.token, "POST", "/v1/sync", body: late).status == 409)
        // A hub token of another city, bound to its first node.
        #expect(
            try send("sfax hub first", centralServer, sfaxHub.token, "POST", "/v1/sync", body: pull.encoded())
                .status == 200)

        // Cross-city paths the authorization matrix leaves out, with the Sfax hub's token (bound to `node`).
        #expect(
            try Replica(path: central, schema: .fieldSync, logger: quietLogger).record("families", id: tunisID) != nil)
        for (label, body) in [
            ("tombstone", Self.family(tunisID, fields: ["_deleted"], values: [1], node: node)),
            ("move to sfax", Self.family(tunisID, fields: ["city"], values: ["Sfax"], node: node)),
            ("write as tunis", Self.family(tunisID, fields: ["city", "phone"], values: ["Tunis", "0"], node: node)),
        ] {
            // Refused alone (a refusal about data), named in the answer; the Tunis family is untouched.
            let result = try send(label, centralServer, sfaxHub.token, "POST", "/v1/sync", body: body)
            #expect(result.status == 200, "\(label)")
            #expect(refusedCodes(result.body) == ["out-of-scope"], "\(label)")
        }
        #expect(
            try Replica(path: central, schema: .fieldSync, logger: quietLogger).record("families", id: tunisID)?["city"]
                == "Tunis")

        // The replica files of the running servers, their WAL and SHM files, and the device's are 0600.
        for path in [central, hubDB] {
            for suffix in ["", "-wal", "-shm"] {
                #expect(FileManager.default.fileExists(atPath: path + suffix), "\(path + suffix) missing")
                #expect(try Self.mode(path + suffix) == 0o600, "\(path + suffix)")
            }
        }
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: fieldDB + suffix) {
            #expect(try Self.mode(fieldDB + suffix) == 0o600, "\(fieldDB + suffix)")
        }
        #expect(try Self.mode(directory.appendingPathComponent("amina").path) == 0o700)

        // A hub of another city relays a conflict about a Tunis record (left out) and a Tunis device's status
        // (refused).
        var relay = SyncRequest(node: node, clockMillis: Int64(SystemClock().nowMillis()))
        let forged = Stamp(hlc: HLCTimestamp(millis: SystemClock().nowMillis(), counter: 0), node: node)
        relay.conflicts = [
            HistoryEntry(
                collection: "families", recordID: tunisID, field: "phone", value: "forged", stamp: forged,
                winner: Stamp(hlc: forged.hlc, node: NodeID.random()))
        ]
        #expect(
            try send("relayed conflict", centralServer, sfaxHub.token, "POST", "/v1/sync", body: relay.encoded())
                .status == 200)
        let history = try Replica(path: central, schema: .fieldSync, logger: quietLogger).history(
            collection: "families", recordID: tunisID)
        #expect(!history.contains { $0.value == "forged" })
        relay.conflicts = []
        relay.relayed = [
            DeviceStatus(
                node: NodeID.random(), name: "forged", role: "device", city: "Tunis", heartbeat: Heartbeat(app: "x"),
                clockOffsetMillis: 0, lastSeenMillis: Int64(SystemClock().nowMillis()))
        ]
        let status = try send("relayed status", centralServer, sfaxHub.token, "POST", "/v1/sync", body: relay.encoded())
        #expect(status.status == 403 && Problem(decoding: status.body)?.code == "out-of-scope")

        // No token in any response body, CLI output or server log.
        centralServer.stop()
        hub.stop()
        transcript.add("central log", centralServer.logText)
        transcript.add("hub log", hub.logText)
        var leaks: [String] = []
        for (label, text) in transcript.texts {
            for token in tokens where text.contains(token) || text.contains(String(token.dropFirst(4))) {
                leaks.append(label)
            }
        }
        #expect(leaks.isEmpty, "tokens appear in: \(leaks)")
        #expect(transcript.texts.count > 20)
        #expect(centralServer.logText.contains("sync"), "the central log is empty: nothing was checked")
    }
}

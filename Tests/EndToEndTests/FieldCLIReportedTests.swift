import FieldDomain
import Foundation
import SyncCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Defects volunteers reported in `field`, each checked end to end the way they met it.
@Suite("field CLI, reported defects", .serialized)
struct FieldCLIReportedTests {
    /// The JSON object a command printed on stdout (nil when it printed none).
    static func stdoutObject(_ result: CommandResult) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) as? [String: Any]
    }

    @Test func statusAndHeartbeatCountOnlyThisDevicesChangesNotYetAcknowledged() throws {
        let setup = try FieldCLITests.setUp()
        defer {
            setup.server.stop()
            try? FileManager.default.removeItem(at: setup.directory)
        }
        let hub = setup.directory.appendingPathComponent("hub.db").path
        let other = try issueToken(db: hub, role: "device", city: "Tunis", name: "karim", directory: setup.directory)
        let karim = try TestDevice(
            name: "karim", city: "Tunis", directory: setup.directory, server: setup.server.url, token: other.token)
        try karim.work(families: 30, deliveriesEach: 1)
        try karim.sync()
        func backlogAtTheHub() throws -> [Int] {
            let report = try run(Binaries.field, ["report", "--db", hub, "--json"])
            let object = try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any]
            let devices = object?["devices"] as? [[String: Any]] ?? []
            return devices.filter { $0["name"] as? String == "amina" }.compactMap { $0["backlog"] as? Int }
        }
        // Records pulled are not changes of this device: a sync that only pulled leaves nothing pending.
        let pulled = try #require(try setup.fieldJSON(["sync"]) as? [String: Any])
        #expect(pulled["pulled"] as? Int == 60 && pulled["pushed"] as? Int == 0)
        #expect((try setup.fieldJSON(["status"]) as? [String: Any])?["pending"] as? Int == 0)
        // The next sync's heartbeat says so to the hub's devices view.
        #expect(try setup.field(["sync"]).status == 0)
        #expect(try backlogAtTheHub() == [0])
        // Its own change is pending until the server has it; the sync that sends it reports none left.
        #expect(try setup.field(["family", "add", "--reference", "TUN-1", "--head", "Fatma"]).status == 0)
        #expect((try setup.fieldJSON(["status"]) as? [String: Any])?["pending"] as? Int == 1)
        try karim.work(families: 5, deliveriesEach: 0)
        try karim.sync()
        let both = try #require(try setup.fieldJSON(["sync"]) as? [String: Any])
        #expect(both["pushed"] as? Int == 1 && both["pulled"] as? Int == 5)
        #expect((try setup.fieldJSON(["status"]) as? [String: Any])?["pending"] as? Int == 0)
        #expect(try backlogAtTheHub() == [0])
    }

    @Test func referencesMatchInAnyCaseAndAnAmbiguousOneIsNamed() throws {
        let setup = try FieldCLITests.setUp()
        defer {
            setup.server.stop()
            try? FileManager.default.removeItem(at: setup.directory)
        }
        for (reference, head) in [("FÈS-00003", "Fatma"), ("CAS-00008", "Karim"), ("MEKNE\u{300}S-1", "Samir")] {
            let added = try setup.field(["family", "add", "--reference", reference, "--head", head])
            #expect(added.status == 0, "\(added.stderr)")
        }
        func shown(_ reference: String) throws -> String? {
            let result = try setup.field(["family", "show", reference, "--json"])
            guard result.status == 0 else { return nil }
            let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            return object?["reference"] as? String
        }
        for typed in ["FÈS-00003", "fès-00003", "Fès-00003", "FE\u{300}S-00003", "fes-00003", "FES 00003"] {
            #expect(try shown(typed) == "FÈS-00003", "\(typed)")
        }
        #expect(try shown("cas-00008") == "CAS-00008")
        #expect(try shown("mekn\u{E8}s-1") == "MEKNE\u{300}S-1")
        let delivered = try setup.field(["deliver", "--family", "fès-00003", "--item", "food_pack"])
        #expect(delivered.status == 0, "\(delivered.stderr)")
        // Two references that differ only in case: the exact one wins; any other spelling names both.
        #expect(try setup.field(["family", "add", "--reference", "ÉTÉ-1", "--head", "Amina"]).status == 0)
        #expect(try setup.field(["family", "add", "--reference", "été-1", "--head", "Nadia", "--force"]).status == 0)
        #expect(try shown("ÉTÉ-1") == "ÉTÉ-1")
        #expect(try shown("été-1") == "été-1")
        for typed in ["Été-1", "ete-1"] {
            let ambiguous = try setup.field(["family", "show", typed])
            #expect(ambiguous.status == 1, "\(typed)")
            #expect(
                ambiguous.stderr.contains("ÉTÉ-1") && ambiguous.stderr.contains("été-1")
                    && ambiguous.stderr.contains("id"), "\(typed): \(ambiguous.stderr)")
            let json = try setup.field(["family", "show", typed, "--json"])
            let candidates = Self.stdoutObject(json)?["candidates"] as? [[String: Any]] ?? []
            #expect(Set(candidates.compactMap { $0["reference"] as? String }) == ["ÉTÉ-1", "été-1"], "\(typed)")
        }
        #expect(try setup.field(["deliver", "--family", "Été-1", "--item", "food_pack"]).status == 1)
    }

    @Test func initAgainWhileOfflineKeepsWhatItCannotRefresh() throws {
        let setup = try FieldCLITests.setUp()
        defer {
            setup.server.stop()
            try? FileManager.default.removeItem(at: setup.directory)
        }
        let token = setup.directory.appendingPathComponent("amina.token").path
        setup.server.stop()
        let again = try setup.field(["init", "--server", setup.server.url, "--token-file", token, "--json"])
        #expect(again.status == 0, "\(again.stderr)")
        let enrolled = Self.stdoutObject(again)
        #expect(enrolled?["city"] as? String == "Tunis" && enrolled?["volunteer"] as? String == "amina")
        #expect((try setup.fieldJSON(["status"]) as? [String: Any])?["city"] as? String == "Tunis")
        #expect(try setup.field(["family", "add", "--reference", "TUN-1", "--head", "Fatma"]).status == 0)
        let delivered = try setup.field(["deliver", "--family", "TUN-1", "--item", "food_pack"])
        #expect(delivered.status == 0, "\(delivered.stderr)")
        let shown = try #require(try setup.fieldJSON(["family", "show", "TUN-1"]) as? [String: Any])
        let volunteers = (shown["deliveries"] as? [[String: Any]] ?? []).compactMap { $0["volunteer"] as? String }
        #expect(volunteers == ["amina"])
        // What is given is taken, online or not.
        let renamed = try setup.field([
            "init", "--server", setup.server.url, "--token-file", token, "--volunteer", "A.",
        ])
        #expect(renamed.status == 0, "\(renamed.stderr)")
        let status = try #require(try setup.fieldJSON(["status"]) as? [String: Any])
        #expect(status["city"] as? String == "Tunis")
        #expect(try setup.field(["status"]).stdout.contains("volunteer:   A."))
    }

    @Test func aRefusalUnderJSONPrintsAnErrorObject() throws {
        let setup = try FieldCLITests.setUp()
        defer {
            setup.server.stop()
            try? FileManager.default.removeItem(at: setup.directory)
        }
        #expect(
            try setup.field([
                "family", "add", "--reference", "TUN-1", "--head", "Fatma Ben Ali", "--phone", "+216 98 123 456",
            ]).status == 0)
        let before = try setup.dump()
        let duplicate = try setup.field([
            "family", "add", "--reference", "TUN-9", "--head", "Fatma Ben Alí", "--phone", "98123456", "--json",
        ])
        #expect(duplicate.status == 1)
        let refusal = try #require(Self.stdoutObject(duplicate), "stdout: \(duplicate.stdout)")
        #expect((refusal["error"] as? String)?.contains("--force") == true)
        let candidates = refusal["duplicates"] as? [[String: Any]] ?? []
        #expect(candidates.map { $0["reference"] as? String } == ["TUN-1"])
        #expect(candidates.first?["phone"] as? String == "+216 98 123 456")
        #expect(try setup.dump() == before)
        // A broken rule, with the deliveries that count against it.
        let hub = setup.directory.appendingPathComponent("hub.db").path
        let admin = try issueToken(db: hub, role: "admin", city: nil, name: "admin", directory: setup.directory)
        let adminDB = setup.directory.appendingPathComponent("admin.db").path
        let adminInit = ["init", "--server", setup.server.url, "--token-file", admin.file, "--db", adminDB]
        #expect(try run(Binaries.field, adminInit).status == 0)
        #expect(
            try run(
                Binaries.field,
                ["admin", "rule", "set", "--item", "food_pack", "--campaign", "w", "--max", "1", "--db", adminDB]
            ).status == 0)
        #expect(try run(Binaries.field, ["sync", "--db", adminDB]).status == 0)
        #expect(try setup.field(["sync"]).status == 0)
        let deliver = ["deliver", "--family", "TUN-1", "--item", "food_pack", "--campaign", "w", "--json"]
        #expect(try setup.field(deliver).status == 0)
        let breach = try setup.field(deliver)
        #expect(breach.status == 1)
        let broken = try #require(Self.stdoutObject(breach), "stdout: \(breach.stdout)")
        #expect((broken["error"] as? String)?.contains("--override") == true)
        #expect((broken["evidence"] as? [[String: Any]])?.count == 1)
        #expect((broken["rules"] as? [[String: Any]])?.first?["max"] as? Int == 1)
        // Any other failure, and bad usage: an object with the error, and the exit code.
        setup.server.stop()
        let cases: [([String], Int32)] = [
            (["family", "show", "TUN-404"], 1), (["deliver", "--family", "TUN-404", "--item", "food_pack"], 1),
            (["sync"], 1), (["family", "add", "--reference", "TUN-2"], 2),
            (["deliver", "--family", "TUN-1", "--item", "bread"], 1),
            (["deliver", "--family", "TUN-1", "--qty", "0"], 2),
        ]
        for (arguments, code) in cases {
            let result = try setup.field(arguments + ["--json"])
            #expect(result.status == code, "\(arguments): \(result.stderr)")
            #expect(
                (Self.stdoutObject(result)?["error"] as? String)?.isEmpty == false, "\(arguments): \(result.stdout)")
        }
        // Help is not an error.
        let help = try setup.field(["status", "--help", "--json"])
        #expect(help.status == 0 && Self.stdoutObject(help) == nil)
    }

    @Test func initAgainstAClosedPortFallsBackToOfflineInitQuickly() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let closed = ClientErrorTests.silentPort()
        close(closed.socket)
        let token = directory.appendingPathComponent("amina.token")
        try Data("fs1_unchecked-token\n".utf8).write(to: token)
        chmod(token.path, 0o600)
        let started = Date()
        let result = try run(
            Binaries.field,
            [
                "init", "--server", "http://127.0.0.1:\(closed.port)", "--token-file", token.path, "--city", "Tunis",
                "--db", directory.appendingPathComponent("amina.db").path, "--json",
            ])
        let seconds = Date().timeIntervalSince(started)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(seconds < 2, "field init against a closed port took \(seconds) s")
        let enrolled = try #require(Self.stdoutObject(result), "stdout: \(result.stdout)")
        #expect((enrolled["checked"] as? String)?.contains("not reachable") == true)
        #expect(enrolled["city"] as? String == "Tunis")
    }
}

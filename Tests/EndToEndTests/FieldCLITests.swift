import FieldDomain
import Foundation
import SyncCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The built `field` binary against a real `sync-server`: every command's happy path, and bad input
/// giving the documented exit code, a clear message, and an unchanged replica.
@Suite("field CLI", .serialized)
struct FieldCLITests {
    struct Setup {
        let directory: URL
        let server: ServerProcess
        let db: String

        func field(_ arguments: [String]) throws -> CommandResult {
            try run(Binaries.field, arguments + ["--db", db])
        }

        func fieldJSON(_ arguments: [String]) throws -> Any {
            let result = try field(arguments + ["--json"])
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
        }

        func dump() throws -> String {
            try Replica(path: db, schema: .fieldSync, logger: quietLogger).dump()
        }
    }

    static func setUp() throws -> Setup {
        let directory = try temporaryDirectory()
        let hub = directory.appendingPathComponent("hub.db").path
        let token = try issueToken(db: hub, role: "device", city: "Tunis", name: "amina", directory: directory)
        let server = try ServerProcess(database: hub)
        let setup = Setup(directory: directory, server: server, db: directory.appendingPathComponent("amina.db").path)
        let enrolled = try setup.field(["init", "--server", server.url, "--token-file", token.file])
        #expect(enrolled.status == 0, "\(enrolled.stderr)")
        #expect(enrolled.stdout.contains("volunteer access for Tunis"))
        return setup
    }

    @Test func volunteerWorkflow() throws {
        let setup = try Self.setUp()
        defer {
            setup.server.stop()
            try? FileManager.default.removeItem(at: setup.directory)
        }
        let attributes = try FileManager.default.attributesOfItem(atPath: setup.db)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        // Families, Arabic and French, found by name, phone, reference.
        #expect(
            try setup.field([
                "family", "add", "--reference", "TUN-1", "--head", "Fatma Ben Ali", "--phone", "+216 98 123 456",
                "--size", "5",
            ]).status == 0)
        #expect(
            try setup.field([
                "family", "add", "--reference", "TUN-2", "--head", "عائلة الحدّاد", "--phone", "71 555 000",
            ]).status == 0)
        #expect(try setup.field(["family", "add", "--reference", "TUN-3", "--head", "Hélène Dupré"]).status == 0)
        let all = try #require(try setup.fieldJSON(["family", "list"]) as? [[String: Any]])
        #expect(all.count == 3)
        let arabic = try #require(
            try setup.fieldJSON(["family", "list", "--search", "عايلة الحداد"]) as? [[String: Any]])
        #expect(arabic.map { $0["reference"] as? String } == ["TUN-2"])
        let french = try #require(
            try setup.fieldJSON(["family", "list", "--search", "helene dupre"]) as? [[String: Any]])
        #expect(french.map { $0["reference"] as? String } == ["TUN-3"])
        let byPhone = try #require(
            try setup.fieldJSON(["family", "list", "--search", "0098123456"]) as? [[String: Any]])
        #expect(byPhone.map { $0["reference"] as? String } == ["TUN-1"])
        // A likely duplicate is shown and not added without --force.
        let duplicate = try setup.field([
            "family", "add", "--reference", "TUN-9", "--head", "Fatma Ben Alí", "--phone", "98123456",
        ])
        #expect(duplicate.status == 1)
        #expect(duplicate.stderr.contains("TUN-1") && duplicate.stderr.contains("--force"))
        #expect(
            try setup.field(["family", "add", "--reference", "TUN-9", "--head", "Fatma Ben Alí", "--force"]).status == 0
        )
        #expect(try setup.field(["family", "edit", "TUN-9", "--phone", "22 333 444"]).status == 0)
        #expect(try setup.field(["family", "delete", "TUN-9"]).status == 0)
        #expect(try setup.field(["family", "show", "TUN-9"]).status == 1)
        // Deliveries, a void, the history.
        let delivered = try #require(
            try setup.fieldJSON(["deliver", "--family", "TUN-1", "--item", "food_pack", "--campaign", "w"])
                as? [String: Any])
        let deliveryID = try #require(delivered["id"] as? String)
        #expect(try setup.field(["void", deliveryID, "--reason", "wrong family"]).status == 0)
        #expect(
            try setup.field(["deliver", "--family", "TUN-1", "--item", "internet_recharge", "--qty", "2"]).status == 0)
        let shown = try #require(try setup.fieldJSON(["family", "show", "TUN-1"]) as? [String: Any])
        #expect((shown["deliveries"] as? [Any])?.count == 1)
        #expect(try setup.field(["family", "edit", "TUN-1", "--phone", "+216 98 000 111"]).status == 0)
        let history = try #require(try setup.fieldJSON(["history", "TUN-1"]) as? [String: Any])
        let superseded = try #require(history["superseded"] as? [[String: Any]])
        #expect(superseded.contains { $0["value"] as? String == "+216 98 123 456" })
        // Sync and status.
        let status = try #require(try setup.fieldJSON(["status"]) as? [String: Any])
        #expect((status["pending"] as? Int ?? 0) > 0)
        let synced = try #require(try setup.fieldJSON(["sync"]) as? [String: Any])
        #expect((synced["pushed"] as? Int ?? 0) >= 5)
        let after = try #require(try setup.fieldJSON(["status"]) as? [String: Any])
        #expect(after["pending"] as? Int == 0 && after["last_sync"] is String)
        #expect(try setup.field(["--help"]).status == 0)
        for command in [["init"], ["family", "add"], ["deliver"], ["void"], ["history"], ["sync"], ["status"]] {
            let help = try run(Binaries.field, command + ["--help"])
            #expect(help.status == 0 && help.stdout.contains("Example"), "\(command)")
        }
    }

    /// A device keeps what it learnt of its server's request codings: the next `field sync` (a new process)
    /// sends its push in zstd from the first request. Enrolling with another server forgets it.
    @Test func theServersCodingsAreKeptBetweenSyncsAndForgottenOnANewServer() throws {
        let setup = try Self.setUp()
        defer {
            setup.server.stop()
            try? FileManager.default.removeItem(at: setup.directory)
        }
        func known() throws -> String? {
            try Replica(path: setup.db, schema: .fieldSync, logger: quietLogger).setting("request_coding")
        }
        #expect(try known() == "zstd-fs1")
        #expect(try setup.field(["sync"]).status == 0)
        #expect(try known() == "zstd-fs1")
        // Another server, not answering now: nothing is known of it.
        let token = setup.directory.appendingPathComponent("token").path
        try Data("fs1_another".utf8).write(to: URL(fileURLWithPath: token))
        let closed = ClientErrorTests.silentPort()
        close(closed.socket)
        let again = try setup.field([
            "init", "--server", "http://127.0.0.1:\(closed.port)", "--token-file", token, "--city", "Tunis",
        ])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try known() == nil)
    }

    @Test func anEntitlementBreachIsRefusedWithItsEvidence() throws {
        let setup = try Self.setUp()
        defer {
            setup.server.stop()
            try? FileManager.default.removeItem(at: setup.directory)
        }
        // The admin's rule (set and listed with the CLI) reaches the device through the server.
        let hub = setup.directory.appendingPathComponent("hub.db").path
        let admin = try issueToken(db: hub, role: "admin", city: nil, name: "admin", directory: setup.directory)
        let adminDB = setup.directory.appendingPathComponent("admin.db").path
        #expect(
            try run(
                Binaries.field, ["init", "--server", setup.server.url, "--token-file", admin.file, "--db", adminDB]
            ).status == 0)
        let set = try run(
            Binaries.field,
            ["admin", "rule", "set", "--item", "food_pack", "--campaign", "w", "--max", "1", "--db", adminDB])
        #expect(set.status == 0, "\(set.stderr)")
        let rules = try run(Binaries.field, ["admin", "rule", "list", "--json", "--db", adminDB])
        let listed = try JSONSerialization.jsonObject(with: Data(rules.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(listed.map { $0["item"] as? String } == ["food_pack"] && listed.first?["max_per_family"] as? Int == 1)
        // Items are the catalogue's (data, not options): an unknown one fails the operation.
        let bread = try run(Binaries.field, ["admin", "rule", "set", "--item", "bread", "--max", "1", "--db", adminDB])
        #expect(bread.status == 1 && bread.stderr.contains("not an item of the catalogue"), "\(bread.stderr)")
        #expect(try run(Binaries.field, ["sync", "--db", adminDB]).status == 0)
        #expect(try setup.field(["sync"]).status == 0)
        #expect(try setup.field(["family", "add", "--reference", "TUN-1", "--head", "Fatma"]).status == 0)
        #expect(
            try setup.field(["deliver", "--family", "TUN-1", "--item", "food_pack", "--campaign", "w"]).status == 0)
        let before = try setup.dump()
        let second = try setup.field(["deliver", "--family", "TUN-1", "--item", "food_pack", "--campaign", "w"])
        #expect(second.status == 1)
        #expect(
            second.stderr.contains("at most 1 Food pack") && second.stderr.contains("amina")
                && second.stderr.contains("--override"))
        #expect(try setup.dump() == before)
        // Another campaign is fine; an override is logged with its reason.
        #expect(
            try setup.field(["deliver", "--family", "TUN-1", "--item", "food_pack", "--campaign", "s"]).status == 0)
        #expect(
            try setup.field([
                "deliver", "--family", "TUN-1", "--item", "food_pack", "--campaign", "w", "--override", "newborn",
            ]).status == 0)
        let shown = try #require(try setup.fieldJSON(["family", "show", "TUN-1"]) as? [String: Any])
        let notes = (shown["deliveries"] as? [[String: Any]] ?? []).compactMap { $0["note"] as? String }
        #expect(notes.contains("override: newborn"))
    }

    @Test func badInputFailsClearlyAndChangesNothing() throws {
        let setup = try Self.setUp()
        defer {
            setup.server.stop()
            try? FileManager.default.removeItem(at: setup.directory)
        }
        #expect(try setup.field(["family", "add", "--reference", "TUN-1", "--head", "Fatma"]).status == 0)
        let before = try setup.dump()
        let cases: [([String], Int32, String)] = [
            (["deliver", "--family", "TUN-404", "--item", "food_pack"], 1, "No family 'TUN-404'"),
            (["deliver", "--family", "TUN-1", "--item", "bread"], 1, "'bread' is not an item of the catalogue"),
            (["deliver", "--family", "TUN-1", "--item", "food_pack", "--qty=-1"], 2, "--qty must be at least 1"),
            (["deliver", "--family", "TUN-1", "--item", "food_pack", "--qty", "many"], 2, "many"),
            (["family", "add", "--reference", "TUN-2"], 2, "--head"),
            (["family", "add", "--reference", "TUN-2", "--head", "X", "--size", "0"], 2, "--size must be at least 1"),
            (["family", "edit", "TUN-1"], 2, "at least one field"),
            (["void", "nope", "--reason", "x"], 1, "No delivery 'nope'"),
            (["history", "TUN-404"], 1, "No family"),
            (["frobnicate"], 2, "Error"),
        ]
        for (arguments, code, message) in cases {
            let result = try setup.field(arguments)
            #expect(result.status == code, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        #expect(try setup.dump() == before)
        // A missing token file; an unreachable server.
        let missing = try run(
            Binaries.field,
            [
                "init", "--server", "http://127.0.0.1:1", "--token-file", "/nonexistent/token", "--db",
                setup.directory.appendingPathComponent("x.db").path,
            ])
        #expect(missing.status == 1 && missing.stderr.contains("Cannot read the access key file"))
        setup.server.stop()
        let offline = try setup.field(["sync"])
        #expect(offline.status == 1 && offline.stderr.contains("Cannot reach the server"))
        #expect(try setup.dump() == before)
        // A damaged replica file: refused, left as it was.
        let damaged = setup.directory.appendingPathComponent("damaged.db").path
        let garbage = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try garbage.write(to: URL(fileURLWithPath: damaged))
        let corrupted = try run(Binaries.field, ["status", "--db", damaged])
        #expect(corrupted.status == 1 && corrupted.stderr.contains("is not FieldSync's data, or it is damaged"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: damaged)) == garbage)
        // No database at all.
        let none = try run(Binaries.field, ["status", "--db", setup.directory.appendingPathComponent("none.db").path])
        #expect(none.status == 1 && none.stderr.contains("field init"))
    }
}

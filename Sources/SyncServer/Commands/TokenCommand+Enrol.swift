import ArgumentParser
import FieldDomain
import Foundation
import SyncCore

extension TokenCommand {
    /// Volunteers enrolled by the hundred: a device token and an enrolment file each, and a sheet to print.
    struct Enrol: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Enrol volunteers from a CSV list: a device token and an enrolment file each, and a sheet.",
            discussion: """
                The list has a header line: name, city, and optionally association, phone (',' or ';', UTF-8 with
                or without a byte order mark; 'sync-server token template' prints one). Each volunteer gets a device token limited to
                their city, named after them (so 'sync-server token revoke NAME' revokes it), and an enrolment file
                (mode 0600: it holds the token) that their device reads with 'field init --enrol FILE'. The folder
                also gets sheet.txt, to print for the coordinators. Names must be unique: a name already enrolled,
                or twice in the list, is refused. Nothing is issued while a row is wrong.
                Examples:
                  sync-server token template > volunteers.csv
                  sync-server token enrol --db hub-fes.db --csv volunteers.csv --city Fès \\
                      --server https://hub.fes.example.org --out enrolment-fes
                """)

        @OptionGroup var database: DatabaseOptions
        @Option(help: "The volunteers' list (CSV: name, city, association, phone).") var csv: String?
        @Option(help: "The URL the devices sync with: their city's hub, or central.") var server: String?
        @Option(help: "A new folder for the enrolment files and the sheet (created with mode 0700).") var out: String?
        @Option(help: "Enrol only this city's volunteers (a hub enrols its own).") var city: String?
        @Flag(help: "Check the list and show who would be enrolled; issue nothing.") var dryRun = false

        func validate() throws {
            guard csv != nil else {
                throw ValidationError("Give the volunteers' list with --csv ('sync-server token template' prints one).")
            }
            guard let server, let url = URL(string: server), ["http", "https"].contains(url.scheme ?? ""),
                url.host != nil
            else {
                throw ValidationError("--server must be the URL the devices sync with, like https://hub.example.org.")
            }
            if !dryRun, out == nil { throw ValidationError("Give --out, a new folder for the enrolment files.") }
        }

        func run() async throws {
            guard let csv, let server else { return }
            guard let data = FileManager.default.contents(atPath: csv) else { throw fail("Cannot read \(csv).") }
            do {
                try await database.withTokenStore { store in
                    let taken = Set(
                        try await store.tokens().filter { $0.revokedMillis == nil }.map { $0.name.lowercased() })
                    let list = try Self.list(data, taken: taken, file: csv)
                    let chosen = list.volunteers.filter { city == nil || $0.city == city }
                    for problem in list.problems { print("line \(problem.line): \(problem.reason)") }
                    guard list.problems.isEmpty else {
                        throw fail("\(list.problems.count) row(s) of \(csv) cannot be enrolled: nothing was issued.")
                    }
                    guard !chosen.isEmpty else { throw fail("No volunteer of \(city ?? "any city") in \(csv).") }
                    let cities = Set(chosen.map(\.city)).sorted()
                    if dryRun {
                        print(
                            "would enrol \(chosen.count) volunteer(s) of \(cities.joined(separator: ", ")); nothing issued"
                        )
                        return
                    }
                    guard let out else { return }
                    try Self.makeFolder(out)
                    var sheet = Sheet(server: server)
                    for (index, volunteer) in chosen.enumerated() {
                        let issued = Tokens.make(
                            role: .device, city: volunteer.city, name: volunteer.name,
                            now: Int64(clamping: SystemClock().nowMillis()))
                        let file = Enrolment.fileName(volunteer, index: index)
                        let path = (out as NSString).appendingPathComponent(file)
                        // The file first: a token is issued only once it has a private place to go.
                        try PrivateFile.create(path) {
                            try Enrolment(server: server, token: issued.token, volunteer: volunteer).encoded()
                        }
                        do {
                            try await store.addToken(issued.record, hash: Tokens.hash(issued.token))
                        } catch {
                            try? FileManager.default.removeItem(atPath: path)
                            throw error
                        }
                        sheet.add(volunteer, file: file, token: issued.record.id)
                    }
                    try PrivateFile.create((out as NSString).appendingPathComponent("sheet.txt")) {
                        Data(sheet.text.utf8)
                    }
                    print(
                        "enrolled \(chosen.count) volunteer(s) of \(cities.joined(separator: ", ")): one file each in "
                            + "\(out), and \(out)/sheet.txt to print. Hand each volunteer their file privately.")
                }
            } catch let error as SyncError {
                throw fail(error.message)
            }
        }

        static func list(_ data: Data, taken: Set<String>, file: String) throws -> VolunteerList {
            do {
                return try VolunteerList(data, taken: taken)
            } catch {
                throw fail("\(file): \(error.message)")
            }
        }

        /// The folder for the files: new (or empty), private.
        static func makeFolder(_ path: String) throws {
            let manager = FileManager.default
            if let existing = try? manager.contentsOfDirectory(atPath: path), !existing.isEmpty {
                throw fail("\(path) already holds files: give a new folder.")
            }
            do {
                try manager.createDirectory(
                    atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw fail("Cannot create \(path): \(error.localizedDescription)")
            }
        }
    }

    /// The volunteers' list template, for `enrol`.
    struct Template: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the template of a volunteers' list for 'token enrol' (CSV, UTF-8).")

        func run() {
            FileHandle.standardOutput.write(Data(VolunteerList.template.utf8))
        }
    }

    /// The printable sheet: per city, each volunteer with their association, phone and file, and what to
    /// type on the device (in French, Arabic and English).
    struct Sheet {
        let server: String
        var byCity: [String: [String]] = [:]

        mutating func add(_ volunteer: Volunteer, file: String, token: String) {
            let details = [volunteer.association, volunteer.phone].compactMap { $0 }.joined(separator: " · ")
            byCity[volunteer.city, default: []].append(
                "  \(volunteer.name)\(details.isEmpty ? "" : " (\(details))")\n    fichier / الملف / file: \(file)"
                    + "    [\(token)]")
        }

        var text: String {
            var lines = [
                "FieldSync — enrolment / inscription / التسجيل",
                "Server: \(server)",
                "",
                "Sur le téléphone / على الهاتف / On the device:  field init --enrol FICHIER",
                "",
            ]
            for city in byCity.keys.sorted() {
                lines.append("== \(city) (\(byCity[city]!.count)) ==")
                lines += byCity[city]!
                lines.append("")
            }
            return lines.joined(separator: "\n")
        }
    }
}

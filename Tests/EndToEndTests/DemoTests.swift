import Foundation
import Testing

/// The small demo story with central on PostgreSQL behind two instances (`scripts/demo-postgres.sh`, on the
/// binaries of this build): central finds the double distribution and the family registered twice, with
/// the right evidence; after the merge the duplicate is gone and the totals are right; the CSV exports read
/// back with Python's csv module (the report is the admin device's, the devices and the conflict central
/// holds are read with psql). The campaign at its real size (`scripts/demo.sh`): `CampaignDemoTests`.
@Suite("Demo", .serialized)
struct DemoTests {
    static var repository: URL {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url
    }

    /// Runs `scripts/SCRIPT` on this build's binaries, its reports in `out`; its output and how long it took.
    static func play(_ script: String, out: URL) throws -> (text: String, status: Int32, seconds: Double, mark: String)
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [Self.repository.appendingPathComponent("scripts/\(script)").path]
        var environment = ProcessInfo.processInfo.environment
        environment["FIELDSYNC_BIN"] = Binaries.directory.path
        // Every process the demo starts inherits this mark: the check below finds ours, and no other.
        let mark = "FIELDSYNC_TEST_RUN=\(UUID().uuidString)"
        environment["FIELDSYNC_TEST_RUN"] = String(mark.dropFirst("FIELDSYNC_TEST_RUN=".count))
        environment["DEMO_OUT"] = out.path
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        let started = Date()
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (text, process.terminationStatus, Date().timeIntervalSince(started), mark)
    }

    @Test(arguments: ["demo-postgres.sh"])
    func theDemoStoryIsFoundByCentral(script: String) throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let (text, status, seconds, mark) = try Self.play(script, out: out)
        #expect(status == 0, "\(text.suffix(2000))")
        #expect(seconds < 120)
        // Everything the demo started is stopped (not: no demo of anyone else's runs on this machine).
        #expect(processes(marked: mark).isEmpty)
        if let start = text.range(of: "(cluster in "), let end = text[start.upperBound...].firstIndex(of: ")") {
            // The PostgreSQL demo's cluster: no process runs on its folder (its server's command line names it;
            // the server's own processes retitle themselves), and the folder is gone.
            let folder = String(text[start.upperBound..<end])
            #expect(processes(commandLineContaining: folder).isEmpty, "\(folder)")
            #expect(!FileManager.default.fileExists(atPath: folder))
        } else {
            #expect(script == "demo.sh", "the PostgreSQL demo names its cluster's folder")
        }

        func json(_ name: String) throws -> [String: Any] {
            try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent(name))) as? [String: Any]
                ?? [:]
        }
        let before = try json("report-before.json")
        let breaches = try #require(before["breaches"] as? [[String: Any]])
        #expect(breaches.count == 1)
        let breach = try #require(breaches.first)
        #expect(breach["reference"] as? String == "TUN-001" && breach["item"] as? String == "food_pack")
        #expect(breach["received"] as? Int == 2 && breach["max"] as? Int == 1)
        let evidence = try #require(breach["evidence"] as? [[String: Any]])
        #expect(Set(evidence.compactMap { $0["volunteer"] as? String }) == ["Amina", "Youssef"])
        #expect(Set(evidence.compactMap { $0["device"] as? String }).count == 2)
        // Central sees every device, also those behind a hub (their hub relays their statuses), and the hubs.
        let onPostgres = script == "demo-postgres.sh"
        func lines(_ name: String) throws -> [String] {
            try String(contentsOf: out.appendingPathComponent(name), encoding: .utf8).split(separator: "\n").map(
                String.init)
        }
        let devices =
            onPostgres
            ? try lines("central-devices.txt")
            : (before["devices"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(
            Set(devices).isSuperset(of: ["tunis-1", "tunis-2", "sfax-1", "sfax-2", "hub-tunis", "hub-sfax"]),
            "\(devices)")
        // The conflict the Tunis hub resolved (both volunteers changed TUN-003's phone) reached central.
        let conflicts =
            onPostgres
            ? try lines("central-conflicts.txt").map { $0.split(separator: "|").map(String.init) }
            : (before["conflicts"] as? [[String: Any]] ?? []).map {
                [$0["field"] as? String ?? "", $0["lost_value"] as? String ?? ""]
            }
        #expect(conflicts.contains(["phone", "+216 22 333 999"]), "\(conflicts)")
        let duplicates = try #require(before["duplicates"] as? [[String: Any]])
        #expect(duplicates.count == 1)
        let pair = (duplicates.first?["families"] as? [[String: Any]] ?? []).compactMap { $0["reference"] as? String }
        #expect(Set(pair) == ["TUN-005", "TUN-105"])

        func totals(_ report: [String: Any]) -> [String: Int] {
            var byCity: [String: Int] = [:]
            for row in report["totals"] as? [[String: Any]] ?? [] {
                byCity[row["city"] as? String ?? "?", default: 0] += row["deliveries"] as? Int ?? 0
            }
            return byCity
        }
        let after = try json("report-after.json")
        #expect((after["duplicates"] as? [Any])?.isEmpty == true)
        #expect(totals(before) == ["Tunis": 8, "Sfax": 4])
        #expect(totals(after) == ["Tunis": 8, "Sfax": 4])
        // TUN-105's delivery now counts for TUN-005: spring internet recharges go to one family, TUN-005.
        let families = (after["totals"] as? [[String: Any]] ?? []).filter {
            $0["city"] as? String == "Tunis" && $0["campaign"] as? String == "2026-spring"
        }.reduce(0) { $0 + ($1["families"] as? Int ?? 0) }
        #expect(families == 3)  // food_pack: TUN-004, TUN-005; internet_recharge: TUN-005

        // The CSV exports, read back by a standard parser (Python's csv), BOM included.
        let reader = """
            import csv, json, sys
            with open(sys.argv[1], encoding="utf-8-sig", newline="") as f:
                print(json.dumps(list(csv.DictReader(f)), ensure_ascii=False))
            """
        func readCSV(_ name: String) throws -> [[String: String]] {
            let result = try run("/usr/bin/env", ["python3", "-c", reader, out.appendingPathComponent(name).path])
            #expect(result.status == 0, "\(result.stderr)")
            return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: String]] ?? []
        }
        let deliveryRows = try readCSV("deliveries.csv")
        #expect(deliveryRows.count == 12)
        #expect(deliveryRows.filter { $0["family_reference"] == "TUN-001" && $0["item"] == "food_pack" }.count == 2)
        let familyRows = try readCSV("families.csv")
        #expect(familyRows.contains { $0["head_name"] == "نادية الكعبي" && $0["reference"] == "SFX-002" })
        #expect(familyRows.contains { $0["head_name"] == "Hédi Trabelsi" })
        #expect(
            familyRows.contains {
                $0["reference"] == "TUN-105"
                    && $0["merged_into"] == familyRows.first { $0["reference"] == "TUN-005" }?["id"]
            })
        let breachRows = try readCSV("breaches.csv")
        #expect(breachRows.count == 2 && Set(breachRows.compactMap { $0["volunteer"] }) == ["Amina", "Youssef"])
    }
}

/// The running processes whose command line holds `text` (a PostgreSQL server started with `-D FOLDER/data`).
func processes(commandLineContaining text: String) -> [Int32] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return names.compactMap(Int32.init).filter { pid in
        guard let line = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        return String(decoding: line.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self).contains(text)
    }
}

/// The running processes whose environment holds `mark` (`NAME=value`): those a test started with it, and
/// their children. Only this user's processes can be read, and only ours carry the mark.
func processes(marked mark: String) -> [Int32] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return names.compactMap(Int32.init).filter { pid in
        guard let environment = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return false }
        return environment.split(separator: 0).contains { $0.elementsEqual(mark.utf8) }
    }
}

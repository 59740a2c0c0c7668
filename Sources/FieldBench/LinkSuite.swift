import ArgumentParser
import FieldDomain
import Foundation
import SyncCore

/// A volunteer's syncs over a slow mobile link (``LinkShaper`` on loopback), with the real `field` and
/// `sync-server`: how close a sync comes to what the link allows, and how its bytes compare with the
/// product's own CSV export of the same rows, gzipped.
struct LinkSuite: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "link",
        abstract: "R10: a volunteer's syncs over a slow link (rate, round trip, cuts), against what the link allows.",
        discussion: """
            Two syncs: the nightly one of a day's deliveries (--day), and a new device's first sync of its city
            (--families, --deliveries). For each, the median of --runs:
              R10_time   time / (bytes ÷ rate + round trips × round trip); a new connection counts a round
                         trip (TCP's handshake). Target ≤ 1.2.
              R10_bytes  bytes both ways, headers included / gzip -6 of `field export` (CSV) of the same rows.
                         Target ≤ 1.0.
            The larger of the two syncs' figures is reported. Then each sync again with --cut-percent of the
            link's segments cutting the connection at a random byte: every one must end in one `field sync`.
            """)

    @Option(help: "The link's rate, bytes a second each way.") var rate = 6_000
    @Option(help: "The link's round trip, milliseconds.") var rttMs = 600
    @Option(help: "Percent of segments that cut their connection, in the runs with cuts.") var cutPercent = 2.0
    @Option(help: "Deliveries of the nightly sync.") var day = 180
    @Option(help: "Families of the city, for the first sync.") var families = 250
    @Option(help: "Deliveries of the city, for the first sync.") var deliveries = 1_200
    @Option(help: "Runs of each sync without cuts (the median is reported), and with cuts.") var runs = 3
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard rate >= 500, (0...10_000).contains(rttMs), (0...50).contains(cutPercent), day >= 1, families >= 1,
            deliveries >= 0, runs >= 1
        else { throw ValidationError("Need --rate ≥ 500, --rtt-ms 0–10000, --cut-percent 0–50, --runs ≥ 1.") }
    }

    struct Measured {
        var seconds: Double
        var bytes: Int
        var roundTrips: Int
        var connections: Int
        var cuts: Int
        var reference: Int
    }

    func run() throws {
        let root = try SyncWorkload.scratchDirectory("field-bench-link")
        defer { try? FileManager.default.removeItem(at: root) }
        let field = try BuiltBinary.path("field")
        let central = root.appendingPathComponent("central.db").path
        // A token is bound to the first device that uses it: one per run.
        let tokens = try (0..<(runs * 2)).map { index in
            let token = root.appendingPathComponent("device-\(index).token").path
            try runCommand(
                try BuiltBinary.path("sync-server"),
                [
                    "token", "issue", "--db", central, "--role", "device", "--city", LinkWorkload.city, "--name",
                    "bench-\(index)", "--out", token,
                ])
            return token
        }
        try LinkWorkload.fillCity(central, families: families, deliveries: deliveries)
        let server = try BenchServer(database: central)
        defer { server.stop() }
        say(
            "link: \(rate) B/s each way, \(rttMs) ms round trip; a city of \(families) families, \(deliveries) deliveries"
        )

        var first: [Measured] = [], nightly: [Measured] = [], cut: [(String, Bool, Int)] = []
        for index in 0..<(runs * 2) {
            let cutting = index >= runs
            let shaper = try LinkShaper(
                upstreamPort: server.port,
                settings: .init(
                    rate: Double(rate), rttSeconds: Double(rttMs) / 1000, cutPercent: cutting ? cutPercent : 0,
                    seed: UInt64(index + 1)))
            let device = root.appendingPathComponent("device-\(index).db").path
            try runCommand(
                field,
                [
                    "init", "--server", shaper.url, "--token-file", tokens[index], "--volunteer",
                    LinkWorkload.volunteer(index), "--db", device,
                ])
            _ = shaper.reset()
            let firstRun = try sync(field, device, shaper)
            if cutting { cut.append(("first", firstRun != nil, 0)) }
            // A first sync cut for good is done again, so that the nightly one has its families.
            if firstRun == nil {
                let again = cutting ? try sync(field, device, shaper) : nil
                if again == nil { throw SyncError(.storage, "a first sync failed twice, or without cuts") }
            }
            let sheet = try LinkWorkload.sheet(device, deliveries: day, directory: root, seed: UInt64(index))
            try runCommand(field, ["deliver", "--csv", sheet, "--db", device])
            let nightlyRun = try sync(field, device, shaper)
            if cutting {
                cut.append(("nightly", nightlyRun != nil, 0))
                let done = { (run: Measured?) in run.map { "done, \($0.cuts) cuts" } ?? "FAILED" }
                say("with cuts: first sync \(done(firstRun)); nightly \(done(nightlyRun))")
                continue
            }
            guard var firstRun, var nightlyRun else { throw SyncError(.storage, "a sync failed without cuts") }
            firstRun.reference = try LinkWorkload.exportedBytes(field, device, collections: ["families", "deliveries"])
            nightlyRun.reference = try LinkWorkload.exportedBytes(
                field, device, collections: ["deliveries"], volunteer: LinkWorkload.volunteer(index))
            first.append(firstRun)
            nightly.append(nightlyRun)
            say("run \(index + 1): first sync \(describe(firstRun)); nightly \(describe(nightlyRun))")
        }
        let figures: [String: Double] = [
            "first_time": median(first.map(timeRatio)), "first_bytes": median(first.map(bytesRatio)),
            "nightly_time": median(nightly.map(timeRatio)), "nightly_bytes": median(nightly.map(bytesRatio)),
        ]
        let r10Time = max(figures["first_time"]!, figures["nightly_time"]!)
        let r10Bytes = max(figures["first_bytes"]!, figures["nightly_bytes"]!)
        let completed = cut.filter(\.1).count
        if json {
            var object: [String: Any] = ["R10_time": r10Time, "R10_bytes": r10Bytes]
            for (key, value) in figures { object[key] = value }
            object["cut_syncs"] = cut.count
            object["cut_syncs_completed"] = completed
            object["nightly_wire_bytes"] = median(nightly.map { Double($0.bytes) })
            object["nightly_csv_gz_bytes"] = median(nightly.map { Double($0.reference) })
            object["first_wire_bytes"] = median(first.map { Double($0.bytes) })
            object["first_csv_gz_bytes"] = median(first.map { Double($0.reference) })
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("")
        print("figure      first sync  nightly  target")
        print("R10 time    \(format2(figures["first_time"]!))        \(format2(figures["nightly_time"]!))     ≤ 1.2")
        print("R10 bytes   \(format2(figures["first_bytes"]!))        \(format2(figures["nightly_bytes"]!))     ≤ 1.0")
        print("with \(cutPercent)% cuts: \(completed) of \(cut.count) syncs done in one `field sync`")
    }

    /// One `field sync` through the shaper; nil when it failed.
    private func sync(_ field: String, _ device: String, _ shaper: LinkShaper) throws -> Measured? {
        let started = Date()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: field)
        process.arguments = ["sync", "--json", "--db", device]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let seconds = Date().timeIntervalSince(started)
        let counters = shaper.reset()
        guard process.terminationStatus == 0,
            let object = try? JSONSerialization.jsonObject(with: output) as? [String: Any]
        else {
            say(
                "a sync failed after \(String(format: "%.1f", seconds)) s, \(counters.cuts) cuts: \(errors.suffix(300))"
            )
            return nil
        }
        return Measured(
            seconds: seconds, bytes: counters.bytes, roundTrips: object["round_trips"] as? Int ?? 0,
            connections: counters.connections, cuts: counters.cuts, reference: 0)
    }

    private func timeRatio(_ run: Measured) -> Double {
        run.seconds
            / (Double(run.bytes) / Double(rate) + Double(run.roundTrips + run.connections) * Double(rttMs) / 1000)
    }

    private func bytesRatio(_ run: Measured) -> Double { Double(run.bytes) / Double(max(1, run.reference)) }

    private func describe(_ run: Measured) -> String {
        "\(String(format: "%.1f", run.seconds)) s, \(run.bytes) B, \(run.roundTrips) round trips, "
            + "\(run.connections) connections, CSV.gz \(run.reference) B"
    }

    private func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }

    private func format2(_ value: Double) -> String { String(format: "%.2f", value) }

    private func say(_ text: String) {
        if !json { print(text) } else { FileHandle.standardError.write(Data((text + "\n").utf8)) }
    }
}

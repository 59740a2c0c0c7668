import FieldSyncTesting
import Foundation

/// The nightly load of `field-bench central`: the three centrals measured in turn, the table and the JSON.
extension CentralSuite {
    var nightlyLoad: NightlyLoad {
        NightlyLoad(
            devices: devices, deliveries: deviceDeliveries, familiesPerCity: cityFamilies, concurrency: concurrency,
            nights: nights)
    }

    private static let kinds: [NightlyCentral.Kind] = [.sqlite, .postgres(instances: 1), .postgres(instances: 2)]

    /// Each run measures the three centrals, the order turned by one each run (a machine that slows down
    /// meanwhile weighs on each in turn); returns each run's figures in the order sqlite, pg1, pg2.
    func runNightly(cluster: PostgresCluster) async throws -> [[NightlyCentral.Figures]] {
        try await Self.makeDurable(cluster, statements: pgStatements)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("field-bench-night-\(UUID())")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let load = nightlyLoad
        say("nightly load: the programme, and \(devices) devices' deliveries …")
        let programme = try load.programme(seed: 1)
        let work = try load.deviceWork(programme, seed: 2)
        var runs: [[NightlyCentral.Figures]] = []
        for run in 0..<nightlyRuns {
            var byName: [String: NightlyCentral.Figures] = [:]
            for offset in 0..<Self.kinds.count {
                let kind = Self.kinds[(run + offset) % Self.kinds.count]
                let central = NightlyCentral(
                    kind: kind, load: load, programme: programme, work: work, cluster: cluster, root: root,
                    statements: pgStatements)
                let figures = try await central.run(say: say)
                byName[kind.name] = figures
                if !json { printStatements(figures) }
            }
            runs.append(Self.kinds.map { byName[$0.name]! })
            if !json { printNightly(runs.last!, title: "run \(run + 1)/\(nightlyRuns)") }
        }
        if !json, runs.count > 1 {
            print(
                "medians of \(runs.count) runs: syncs/s " + medians(runs) { $0.night.syncsPerSecond }
                    + "; p99 ms " + medians(runs) { percentile($0.night.deviceMillis, 0.99) })
        }
        if !json {
            let ratio = median(runs.map { $0[2].night.syncsPerSecond / $0[0].night.syncsPerSecond })
            print("pg2/sqlite  \(format2(ratio))  ≥ 0.7   syncs/s of PostgreSQL behind 2 instances / SQLite central")
        }
        return runs
    }

    /// The cluster made as durable as SQLite's synchronous=FULL (the test cluster starts without fsync).
    static func makeDurable(_ cluster: PostgresCluster, statements: Bool) async throws {
        let versions = try FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")
        guard let version = versions.sorted(by: { (Int($0) ?? 0) > (Int($1) ?? 0) }).first else {
            throw BenchError("no PostgreSQL under /usr/lib/postgresql")
        }
        var settings = ["fsync = on", "synchronous_commit = on", "full_page_writes = on"]
        if statements { settings.append("shared_preload_libraries = 'pg_stat_statements'") }
        for setting in settings {
            try runCommand(
                "/usr/lib/postgresql/\(version)/bin/psql",
                [
                    "--no-psqlrc", "--quiet", "--host", "127.0.0.1", "--port", String(cluster.port), "--username",
                    cluster.user, "--dbname", "postgres", "--command", "ALTER SYSTEM SET \(setting)",
                ])
        }
        try await cluster.restart()
    }

    private func printNightly(_ figures: [NightlyCentral.Figures], title: String) {
        let load = nightlyLoad
        print(
            "\nnightly load, \(title): \(load.devices) devices × \(load.deliveries) deliveries and "
                + "\(NightlyLoad.cities.count) hubs, \(load.familiesPerCity) families a city, \(load.concurrency) syncs "
                + "at a time; night \(load.nights) of \(load.nights)")
        print(
            pad("central", 9) + pad("syncs/s", 9) + pad("p50 ms", 8) + pad("p99 ms", 8) + pad("max ms", 8)
                + pad("hub ms", 8) + pad("pulled/dev", 11) + pad("req/sync", 9) + pad("peak MB", 13)
                + pad("CPU s gen/srv/pg", 18) + pad("store MB", 10) + "B/delivery")
        for figure in figures {
            let night = figure.night
            let added = Double(figure.sizeAfter - figure.sizeAfterSeed) / Double(figure.deliveriesStored)
            print(
                pad(figure.name, 9) + pad(format1(night.syncsPerSecond), 9)
                    + pad(format1(percentile(night.deviceMillis, 0.5)), 8)
                    + pad(format1(percentile(night.deviceMillis, 0.99)), 8)
                    + pad(format1(night.deviceMillis.max() ?? 0), 8)
                    + pad(format1(night.hubMillis.reduce(0, +) / Double(max(1, night.hubMillis.count))), 8)
                    + pad(String(night.devicePulled / max(1, night.deviceMillis.count)), 11)
                    + pad(format2(Double(night.roundTrips) / Double(max(1, night.syncs))), 9)
                    + pad(figure.peakMiB.map { String(Int($0.rounded())) }.joined(separator: "/"), 13)
                    + pad(
                        "\(format1(figure.cpu.load))/\(format1(figure.cpu.servers))/\(format1(figure.cpu.postgres))", 18
                    )
                    + pad(format1(Double(figure.sizeAfter) / 1_048_576), 10) + String(Int(added.rounded())))
        }
        let ratio = figures[2].night.syncsPerSecond / figures[0].night.syncsPerSecond
        print(
            "pg2/sqlite \(format2(ratio)) (target ≥ 0.7); pg1/sqlite "
                + format2(figures[1].night.syncsPerSecond / figures[0].night.syncsPerSecond))
    }

    private func printStatements(_ figures: NightlyCentral.Figures) {
        guard !figures.statements.isEmpty else { return }
        print("\(figures.name): PostgreSQL's statements by total time in the measured night")
        for line in figures.statements { print("  " + line) }
    }

    private func medians(_ runs: [[NightlyCentral.Figures]], _ value: (NightlyCentral.Figures) -> Double) -> String {
        (0..<Self.kinds.count).map { index in
            "\(Self.kinds[index].name) \(format1(median(runs.map { value($0[index]) })))"
        }.joined(separator: ", ")
    }

    func printJSON(r11: (merge: Double, floor: Double)?, nightly: [[NightlyCentral.Figures]]) throws {
        var object: [String: Double] = [:]
        if let r11 {
            object["R11_merge"] = round2(r11.merge)
            object["R11_floor"] = round2(r11.floor)
        }
        if !nightly.isEmpty {
            func value(_ index: Int, _ pick: (NightlyCentral.Figures) -> Double) -> Double {
                round2(median(nightly.map { pick($0[index]) }))
            }
            for (index, kind) in Self.kinds.enumerated() {
                object["syncs_per_s_\(kind.name)"] = value(index) { $0.night.syncsPerSecond }
                object["p50_ms_\(kind.name)"] = value(index) { percentile($0.night.deviceMillis, 0.5) }
                object["p99_ms_\(kind.name)"] = value(index) { percentile($0.night.deviceMillis, 0.99) }
            }
            object["pg2_over_sqlite"] = round2(
                median(nightly.map { $0[2].night.syncsPerSecond / $0[0].night.syncsPerSecond }))
            object["instance_peak_mb"] = round2(nightly.flatMap { $0[1].peakMiB + $0[2].peakMiB }.max() ?? 0)
            object["pg_bytes_per_delivery"] = value(2) {
                Double($0.sizeAfter - $0.sizeAfterSeed) / Double($0.deliveriesStored)
            }
        }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }

    private func round2(_ value: Double) -> Double { (value * 100).rounded() / 100 }

    func say(_ text: String) {
        if !json { FileHandle.standardError.write(Data((text + "\n").utf8)) }
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text + String(repeating: " ", count: max(1, width - text.count))
    }
}

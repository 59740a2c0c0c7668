import ArgumentParser
import Foundation
import SyncCore

/// R4–R9: the sync protocol over real HTTP (a `sync-server` process, the libcurl client) against baselines
/// measured in the same run.
struct SyncSuite: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "R4 wire bytes, R5 delta bytes, R6 transport speed, R7 idle sync, R9 memory of the sync protocol.",
        discussion: """
            Every figure syncs through a real sync-server process on loopback with the libcurl client, at batch
            sizes 500 and 1,000 (--json reports the default, 1,000). Files are SQLite with synchronous=FULL.
              R4  bytes on the wire (requests + responses, headers included) per delivery, for a first pull of
                  --deliveries deliveries / bytes per delivery of gzip (level 6) of a CSV of the same rows.
              R5  bytes on the wire per changed field when --families families each change one field (push).
              R6  records/s of a device→central push and of a first pull over HTTP / records/s of applying the
                  same pages to a local replica file (the merge alone, timed just before and just after each
                  HTTP run: their mean); median of --runs runs. Each timed step starts with the disk settled.
              R7  bytes of a sync with nothing to do (one round trip).
              R9  peak RSS of the client (a separate process) and of the server while pulling --large deliveries
                  / the same while pulling --deliveries; the larger ratio. client_peak_mb and server_peak_mb
                  are those of the large run.
            """)

    @Option(help: "Deliveries for R4, R6 and the small R9 run.") var deliveries = 100_000
    @Option(help: "Families for R5.") var families = 10_000
    @Option(help: "Deliveries of the large R9 run (0 skips R9).") var large = 1_000_000
    @Option(help: "Runs of R6; the median is reported.") var runs = 5
    @Option(help: "Directory for the files (default: a temporary one, removed).") var directory: String?
    @Flag(help: "Print one JSON object: R4, R5, R6_push, R6_pull, R7_bytes, R9, client_peak_mb, server_peak_mb.")
    var json = false

    func validate() throws {
        guard deliveries >= 1000, families >= 100, runs >= 1, large == 0 || large >= deliveries else {
            throw ValidationError(
                "Need --deliveries ≥ 1000, --families ≥ 100, --runs ≥ 1, --large 0 or ≥ --deliveries.")
        }
    }

    struct Figures {
        var r4 = 0.0, r5 = 0.0, r6Push = 0.0, r6Pull = 0.0, r7 = 0
        /// Every run's R6 ratio (the figure is their median): how noisy the machine was.
        var pushRuns: [Double] = [], pullRuns: [Double] = []
        var wirePerDelivery = 0.0, csvPerDelivery = 0.0
        var pushRate = 0.0, pushMergeRate = 0.0, pullRate = 0.0, pullMergeRate = 0.0
        /// CPU ms per 1,000 records (last run): client, server, the local merge.
        var pushCPU = (client: 0.0, server: 0.0, merge: 0.0), pullCPU = (client: 0.0, server: 0.0, merge: 0.0)
    }

    func run() throws {
        let root =
            try directory.map { URL(fileURLWithPath: $0) }
            ?? {
                let url = FileManager.default.temporaryDirectory.appendingPathComponent(
                    "field-bench-sync-\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
                return url
            }()
        defer { if directory == nil { try? FileManager.default.removeItem(at: root) } }
        func file(_ name: String) -> String {
            let path = root.appendingPathComponent(name).path
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            return path
        }
        say("generating \(deliveries) deliveries …")
        // The source of pulls: central's file, filled before its server starts.
        let centralPath = file("central.db")
        let central = try SyncWorkload.replica(centralPath)
        try SyncWorkload.logDeliveries(central, count: deliveries, seed: 1)
        let csvBytes = try SyncWorkload.gzippedCSV(central)
        // The source of pushes: a device's file with its own deliveries.
        let devicePath = file("device-source.db")
        let deviceSource = try SyncWorkload.replica(devicePath)
        try SyncWorkload.logDeliveries(deviceSource, count: deliveries, seed: 2)
        let server = try BenchServer(database: centralPath)
        defer { server.stop() }

        var bySize: [Int: Figures] = [:]
        for batchSize in [500, 1000] {
            var figures = Figures()
            figures.csvPerDelivery = Double(csvBytes) / Double(deliveries)
            let pullPages = try SyncWorkload.pages(central, limit: batchSize)
            let pushPages = try SyncWorkload.pages(deviceSource, limit: batchSize)
            var pullRatios: [Double] = []
            var pushRatios: [Double] = []
            for run in 0..<runs {
                say("batch \(batchSize), run \(run + 1)/\(runs): merge, pull, merge, merge, push, merge …")
                // Pull over HTTP into a fresh file; the baseline: the same pages applied locally into a fresh
                // file, just before and just after (their mean: a machine that speeds up or slows down during
                // the run weighs on both sides alike).
                let pullBefore = try mergeTime(pullPages, file("merge-pull-\(batchSize)-\(run)-a.db"))
                let pulled = try SyncWorkload.replica(file("pull-\(batchSize)-\(run).db"))
                let hubToken = try BenchServer.issueToken(database: centralPath, role: "hub", city: SyncWorkload.city)
                var summary = SyncSummary()
                var cpu = CPUMeter(server: server)
                settleDisk()
                let pullTime = try time {
                    summary = try syncClient(replica: pulled, server: server.url, token: hubToken, batchSize: batchSize)
                }
                let pullCPU = cpu.lap(records: deliveries)
                guard summary.pulled == deliveries else {
                    throw SyncError(.storage, "pulled \(summary.pulled) of \(deliveries)")
                }
                figures.wirePerDelivery = Double(summary.bytesSent + summary.bytesReceived) / Double(deliveries)
                if run == 0 { figures.r7 = try idleBytes(pulled, server: server, token: hubToken) }
                cpu = CPUMeter(server: server)
                let pullAfter = try mergeTime(pullPages, file("merge-pull-\(batchSize)-\(run)-b.db"))
                let mergePullTime = (pullBefore + pullAfter) / 2
                figures.pullCPU = (pullCPU.client, pullCPU.server, cpu.lap(records: deliveries).client)
                pullRatios.append(mergePullTime / pullTime)
                figures.pullRate = Double(deliveries) / pullTime
                figures.pullMergeRate = Double(deliveries) / mergePullTime
                // Push: a copy of the device's file pushes to a fresh central; baseline: the pages applied
                // locally, before and after.
                let pushBefore = try mergeTime(pushPages, file("merge-push-\(batchSize)-\(run)-a.db"))
                let pushTarget = file("push-central-\(batchSize)-\(run).db")
                let pushServer = try BenchServer(database: pushTarget)
                defer { pushServer.stop() }
                let deviceToken = try BenchServer.issueToken(
                    database: pushTarget, role: "device", city: SyncWorkload.city)
                let deviceCopy = try copyReplica(devicePath, to: file("device-\(batchSize)-\(run).db"))
                cpu = CPUMeter(server: pushServer)
                settleDisk()
                let pushTime = try time {
                    summary = try syncClient(
                        replica: deviceCopy, server: pushServer.url, token: deviceToken, batchSize: batchSize)
                }
                let pushCPU = cpu.lap(records: deliveries)
                guard summary.pushed == deliveries else {
                    throw SyncError(.storage, "pushed \(summary.pushed) of \(deliveries)")
                }
                cpu = CPUMeter(server: pushServer)
                let pushAfter = try mergeTime(pushPages, file("merge-push-\(batchSize)-\(run)-b.db"))
                let mergePushTime = (pushBefore + pushAfter) / 2
                figures.pushCPU = (pushCPU.client, pushCPU.server, cpu.lap(records: deliveries).client)
                pushRatios.append(mergePushTime / pushTime)
                figures.pushRate = Double(deliveries) / pushTime
                figures.pushMergeRate = Double(deliveries) / mergePushTime
                if run == 0 {
                    // R5: the device registers families, syncs, edits one field of each, syncs: bytes of that sync.
                    let ids = try SyncWorkload.registerFamilies(deviceCopy, count: families, seed: 3)
                    _ = try syncClient(
                        replica: deviceCopy, server: pushServer.url, token: deviceToken, batchSize: batchSize)
                    try SyncWorkload.editPhones(deviceCopy, ids: ids, seed: 4)
                    let edit = try syncClient(
                        replica: deviceCopy, server: pushServer.url, token: deviceToken, batchSize: batchSize)
                    guard edit.pushed == families else {
                        throw SyncError(.storage, "pushed \(edit.pushed) edits of \(families)")
                    }
                    figures.r5 = Double(edit.bytesSent + edit.bytesReceived) / Double(families)
                }
                pushServer.stop()
            }
            figures.r4 = figures.wirePerDelivery / figures.csvPerDelivery
            figures.r6Pull = median(pullRatios)
            figures.r6Push = median(pushRatios)
            (figures.pushRuns, figures.pullRuns) = (pushRatios, pullRatios)
            bySize[batchSize] = figures
        }
        server.stop()

        var memory: (ratio: Double, client: Double, server: Double, smallClient: Double, smallServer: Double)?
        if large > 0 {
            say("R9: pulling \(deliveries) then \(large) deliveries in separate client processes …")
            let small = try memoryRun(centralPath, root: root, count: deliveries, file: file)
            let bigPath = file("central-large.db")
            let big = try SyncWorkload.replica(bigPath)
            try SyncWorkload.logDeliveries(big, count: large, seed: 5)
            let largeRun = try memoryRun(bigPath, root: root, count: large, file: file)
            memory = (
                max(largeRun.client / small.client, largeRun.server / small.server), largeRun.client, largeRun.server,
                small.client, small.server
            )
        }
        let main = bySize[1000]!
        if json {
            var object: [String: Double] = [
                "R4": main.r4, "R5": main.r5, "R6_push": main.r6Push, "R6_pull": main.r6Pull,
                "R7_bytes": Double(main.r7),
            ]
            if let memory {
                object["R9"] = memory.ratio
                object["client_peak_mb"] = memory.client
                object["server_peak_mb"] = memory.server
            }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print(
            "\nFieldSync sync benchmark: \(deliveries) deliveries, \(families) family edits, loopback HTTP, synchronous=FULL"
        )
        print("figure     batch 500   batch 1000  target   what")
        func row(_ name: String, _ value: (Figures) -> String, _ target: String, _ what: String) {
            print(pad(name, 11) + pad(value(bySize[500]!), 12) + pad(value(bySize[1000]!), 12) + pad(target, 9) + what)
        }
        row("R4", { format2($0.r4) }, "≤ 1.3", "wire bytes per delivery / gzip(CSV) per delivery")
        row(
            "  bytes", { "\(format2($0.wirePerDelivery))/\(format2($0.csvPerDelivery))" }, "",
            "wire / CSV.gz, per delivery")
        row("R5", { format2($0.r5) }, "≤ 16 B", "wire bytes per changed field (10,000 families, one field each)")
        row("R6 push", { format2($0.r6Push) }, "≥ 0.5", "records/s pushed over HTTP / records/s of the local merge")
        row("  rates", { "\(Int($0.pushRate))/\(Int($0.pushMergeRate))" }, "", "records/s: push / merge")
        row("  cpu", { cpuText($0.pushCPU) }, "", "CPU ms per 1,000 records: client/server/merge")
        row("R6 pull", { format2($0.r6Pull) }, "≥ 0.5", "records/s pulled over HTTP / records/s of the local merge")
        row("  rates", { "\(Int($0.pullRate))/\(Int($0.pullMergeRate))" }, "", "records/s: pull / merge")
        row("  cpu", { cpuText($0.pullCPU) }, "", "CPU ms per 1,000 records: client/server/merge")
        row("R7", { "\($0.r7) B" }, "≤ 1 KB", "a sync with nothing to do, one round trip")
        for size in [500, 1000] {
            let figures = bySize[size]!
            print(
                "  R6 runs at batch \(size), in order: push " + figures.pushRuns.map(format2).joined(separator: " ")
                    + "; pull " + figures.pullRuns.map(format2).joined(separator: " "))
        }
        if let memory {
            print(
                pad("R9", 11) + pad("", 12) + pad(format2(memory.ratio), 12) + pad("≤ 1.3", 9)
                    + "peak RSS pulling \(large) / pulling \(deliveries) (larger of client and server)")
            print(
                pad("  client", 11) + pad("", 12) + pad(format2(memory.client), 12) + pad("< 150", 9)
                    + "MB at \(large) (\(format2(memory.smallClient)) MB at \(deliveries))")
            print(
                pad("  server", 11) + pad("", 12) + pad(format2(memory.server), 12) + pad("< 300", 9)
                    + "MB at \(large) (\(format2(memory.smallServer)) MB at \(deliveries))")
        }
    }

    /// Seconds to apply `pages` to a fresh replica file at `path` (the local merge alone).
    /// The file is removed afterwards (two of them per run and batch size would add up).
    private func mergeTime(_ pages: [ChangeBatch], _ path: String) throws -> Double {
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        return try {
            let replica = try SyncWorkload.replica(path)
            settleDisk()
            return try time { for page in pages { try replica.apply(page) } }
        }()
    }

    /// Writes back what earlier steps left dirty, so that a timed step does not pay for the one before it.
    private func settleDisk() { sync() }

    private func cpuText(_ cpu: (client: Double, server: Double, merge: Double)) -> String {
        "\(format1(cpu.client))/\(format1(cpu.server))/\(format1(cpu.merge))"
    }

    /// CPU time of this process and of a server between two points, per 1,000 records.
    private struct CPUMeter {
        let server: BenchServer
        var start: (client: Double, server: Double)

        init(server: BenchServer) {
            self.server = server
            start = (cpuSeconds(pid: "self"), server.cpuSeconds)
        }

        mutating func lap(records: Int) -> (client: Double, server: Double) {
            let now = (cpuSeconds(pid: "self"), server.cpuSeconds)
            defer { start = now }
            let scale = 1_000_000 / Double(records)
            return ((now.0 - start.client) * scale, (now.1 - start.server) * scale)
        }
    }

    /// Bytes of a sync with nothing to do.
    private func idleBytes(_ replica: Replica, server: BenchServer, token: String) throws -> Int {
        let summary = try syncClient(replica: replica, server: server.url, token: token, batchSize: 1000)
        guard summary.roundTrips == 1 else {
            throw SyncError(.storage, "an idle sync took \(summary.roundTrips) round trips")
        }
        return summary.bytesSent + summary.bytesReceived
    }

    /// Starts a server on `database` and pulls everything with a client process; returns both peaks (MiB).
    private func memoryRun(
        _ database: String, root: URL, count: Int, file: (String) -> String
    ) throws -> (client: Double, server: Double) {
        let server = try BenchServer(database: database)
        defer { server.stop() }
        let token = try BenchServer.issueToken(database: database, role: "hub", city: SyncWorkload.city)
        let output = try runCommand(
            try BuiltBinary.path("field-bench"),
            ["sync-client", "--db", file("memory-client-\(count).db"), "--server", server.url, "--token", token])
        let parts = output.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ")
        guard parts.count == 2, let pulled = Int(parts[0]), pulled == count, let client = Double(parts[1]) else {
            throw SyncError(.storage, "the client process printed '\(output)'")
        }
        return (client, server.peakMiB)
    }

    private func copyReplica(_ source: String, to target: String) throws -> Replica {
        let replica = try SyncWorkload.replica(source)
        try replica.checkpoint()
        try FileManager.default.copyItem(atPath: source, toPath: target)
        return try SyncWorkload.replica(target)
    }

    private func say(_ text: String) {
        if !json { FileHandle.standardError.write(Data((text + "\n").utf8)) }
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text + String(repeating: " ", count: max(1, width - text.count))
    }
}

/// The client side of R9, in its own process so that its memory is its own: pulls everything and prints
/// "<records pulled> <peak RSS MiB>".
struct SyncClientCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync-client", abstract: "Pull everything from a server (used by the R9 benchmark).",
        shouldDisplay: false)

    @Option var db: String
    @Option var server: String
    @Option var token: String
    @Option var batch = 1000

    func run() throws {
        let replica = try SyncWorkload.replica(db)
        let summary = try syncClient(replica: replica, server: server, token: token, batchSize: batch)
        print("\(summary.pulled) \(format2(ownPeakMiB()))")
    }
}

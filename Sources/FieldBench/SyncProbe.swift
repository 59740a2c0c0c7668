import ArgumentParser
import Foundation
import SyncCore

/// One device→central push (or pull) over HTTP, alone, for profilers (`perf record -- field-bench sync-probe`).
struct SyncProbe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync-probe",
        abstract: "One push (or --pull) of --deliveries deliveries over HTTP, alone (for profiling).",
        shouldDisplay: false)

    @Option var deliveries = 100_000
    @Option var batch = 1000
    @Option(help: "Push to this running server instead of starting one (with --token).") var server: String?
    @Option var token: String?
    @Flag(help: "Pull --deliveries from the server's file into a fresh device instead of pushing.") var pull = false

    func run() throws {
        let root = try SyncWorkload.scratchDirectory("push-probe")
        defer { try? FileManager.default.removeItem(at: root) }
        let device = try SyncWorkload.replica(root.appendingPathComponent("device.db").path)
        if !pull { try SyncWorkload.logDeliveries(device, count: deliveries, seed: 2) }
        if let server, let token {
            let cpu = cpuSeconds(pid: "self")
            let seconds = try time {
                _ = try syncClient(replica: device, server: server, token: token, batchSize: batch)
            }
            let perThousand = (cpuSeconds(pid: "self") - cpu) * 1_000_000 / Double(deliveries)
            print("pushed \(deliveries) in \(format2(seconds)) s; client CPU ms per 1,000: \(format1(perThousand))")
            return
        }
        let central = root.appendingPathComponent("central.db").path
        let source = try SyncWorkload.replica(central)
        if pull { try SyncWorkload.logDeliveries(source, count: deliveries, seed: 1) }
        let server = try BenchServer(database: central)
        defer { server.stop() }
        let token = try BenchServer.issueToken(
            database: central, role: pull ? "hub" : "device", city: SyncWorkload.city)
        let cpu = (cpuSeconds(pid: "self"), server.cpuSeconds)
        let seconds = try time {
            _ = try syncClient(replica: device, server: server.url, token: token, batchSize: batch)
        }
        let scale = 1_000_000 / Double(deliveries)
        print(
            "server pid \(server.process.processIdentifier): \(pull ? "pulled" : "pushed") \(deliveries) in \(format2(seconds)) s; CPU ms per 1,000: client "
                + "\(format1((cpuSeconds(pid: "self") - cpu.0) * scale)), server \(format1((server.cpuSeconds - cpu.1) * scale)); "
                + "\(try serverMetric(server.url, #"fieldsync_errors_total{type="out-of-order"}"#)) requests refused "
                + "out of order (sent again)"
        )
    }
}

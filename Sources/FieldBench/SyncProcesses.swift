import Foundation
import Logging
import SyncClient
import SyncCore

let benchLogger = Logger(label: "field-bench") { _ in SwiftLogNoOpLogHandler() }

/// The executables built beside `field-bench`.
enum BuiltBinary {
    static var directory: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    }

    static func path(_ name: String) throws -> String {
        let path = directory.appendingPathComponent(name).path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw SyncError(
                .notFound, "\(path) is missing: build everything first (swift build -c release), then run field-bench.")
        }
        return path
    }
}

/// Runs a command to its end; returns its standard output.
@discardableResult
func runCommand(_ executable: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw SyncError(
            .storage, "\(executable) \(arguments.joined(separator: " ")) failed (\(process.terminationStatus)).")
    }
    return String(decoding: data, as: UTF8.self)
}

/// A `sync-server serve` process on a free loopback port.
final class BenchServer {
    let process = Process()
    let port: Int
    var url: String { "http://127.0.0.1:\(port)" }

    convenience init(database: String) throws {
        try self.init(store: ["--db", database])
    }

    /// `sync-server serve` on `store` (`--db FILE`, or `--store URL` with its options), rate limit off;
    /// `environment` is added to this process's (a PostgreSQL password).
    init(store: [String], extra: [String] = [], environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: try BuiltBinary.path("sync-server"))
        process.arguments =
            ["serve"] + store + ["--port", "0", "--log-level", "error", "--rate-limit", "100000"] + extra
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let range = text.range(of: "127.0.0.1:"),
            let port = Int(text[range.upperBound...].prefix(while: \.isNumber))
        else {
            process.terminate()
            throw SyncError(.storage, "sync-server did not start: \(text)")
        }
        self.port = port
    }

    /// The server's peak resident memory so far (VmHWM), in MiB.
    var peakMiB: Double { FieldBench.peakMiB(pid: String(process.processIdentifier)) }

    /// CPU time (user + system) the server has used so far, in seconds.
    var cpuSeconds: Double { FieldBench.cpuSeconds(pid: String(process.processIdentifier)) }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    deinit { stop() }

    /// Issues a token on this server's file (the server reads tokens per request).
    static func issueToken(database: String, role: String, city: String?) throws -> String {
        var arguments = [
            "token", "issue", "--db", database, "--role", role, "--name", "bench-\(UUID().uuidString.prefix(8))",
        ]
        if let city { arguments += ["--city", city] }
        return try runCommand(try BuiltBinary.path("sync-server"), arguments).trimmingCharacters(
            in: .whitespacesAndNewlines)
    }
}

/// A client replica syncing with a server through libcurl.
func syncClient(replica: Replica, server: String, token: String, batchSize: Int) throws -> SyncSummary {
    var configuration = ClientConfiguration(serverURL: server, token: token)
    configuration.attempts = 2
    let transport = CurlTransport(configuration: configuration, logger: benchLogger)
    var session = SyncSession(replica: replica, transport: transport, peer: "upstream", logger: benchLogger)
    session.batchSize = batchSize
    return try session.run()
}

/// A counter of the server's `/metrics` (0 when it is not there yet).
func serverMetric(_ server: String, _ name: String) throws -> Int {
    let transport = CurlTransport(
        configuration: ClientConfiguration(serverURL: server, token: ""), logger: benchLogger)
    let text = String(
        decoding: try transport.raw(method: "GET", path: "/metrics", headers: [], body: nil).body, as: UTF8.self)
    let line = text.split(separator: "\n").first { $0.hasPrefix(name + " ") }
    return line.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
}

/// This process's peak resident memory (VmHWM), in MiB. Not `getrusage`: Linux carries `ru_maxrss` over
/// `exec`, so a child would report its parent's peak.
func ownPeakMiB() -> Double {
    peakMiB(pid: "self")
}

/// CPU time (user + system, all threads) a process has used so far, in seconds: fields 14 and 15 of
/// `/proc/<pid>/stat`, in clock ticks; with `children`, also that of its children that ended (16 and 17).
func cpuSeconds(pid: String, children: Bool = false) -> Double {
    let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
    // The command name (field 2) may hold spaces: count from the closing parenthesis.
    guard let close = stat.lastIndex(of: ")") else { return 0 }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
    let ended = children ? (Double(fields[13]) ?? 0) + (Double(fields[14]) ?? 0) : 0
    return (user + system + ended) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

func peakMiB(pid: String) -> Double {
    let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
    let kib = Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    return kib / 1024
}
